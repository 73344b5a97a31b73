import { z } from 'zod';
import { rolloutSettings } from './rollout-schema.js';
import { SYSTEM_DIRS, isNormalizedAbsolute, isSafeRelative, stripTrailingSlash } from './paths.js';
import { persistenceSettings } from './persistence-schema.js';
import { artifactSettings, fetchMode } from './artifacts-schema.js';
import { checkTaskReferences, healthcheckSchema, hooksSchema, tasksSchema } from './hooks-schema.js';
import { notifySchema } from './notify-schema.js';

/** Subcommands: a host or stage with one of these names would make `deploy <name>` ambiguous. */
export const RESERVED_NAMES = [
  'rollback',
  'releases',
  'unlock',
  'lock',
  'verify',
  'init',
  'setup',
  'ssh',
  'run',
  'hosts',
  'config',
  'build',
  'artifacts',
  'task',
  'list',
  'help',
  'all',
];

const relativePath = z
  .string()
  .refine(isSafeRelative, { message: 'must be a relative path inside the release, without `..`' })
  .transform(stripTrailingSlash);

const seedShared = z
  .boolean()
  .default(false)
  .describe(
    'Seed shared/ from the uploaded copy while shared/ has none (a first deploy). Off by default: production data never comes from the deploying machine by accident.',
  );

const sharedDir = z.union(
  [
    relativePath,
    z
      .strictObject({
        path: relativePath.describe('Directory path relative to the release and to shared/.'),
        seed_shared: seedShared,
      })
      .describe('A shared directory with options.'),
  ],
  { error: 'must be a path (a string) or a mapping with `path` (and `seed_shared`)' },
);

const sharedFile = z.union(
  [
    relativePath,
    z
      .strictObject({
        path: relativePath.describe('File path relative to the release and to shared/.'),
        optional: z
          .boolean()
          .default(false)
          .describe('When true, a file missing from shared/ (and from the live release) is not an error.'),
        when_absent: z
          .enum(['link', 'empty'])
          .optional()
          .describe(
            'An optional file shared/ does not hold yet: `link` links it anyway, so the app’s first write lands in shared/; `empty` creates it empty there, writable by the app (SQLite databases, .htaccess). Default: the recipe’s, else link.',
          ),
        seed_shared: seedShared,
      })
      .describe('A shared file with options.'),
  ],
  {
    error: 'must be a path (a string) or a mapping with `path` (and options such as `optional`)',
  },
);

const name = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: 'use letters, digits, `.`, `_` and `-`' })
  .refine((n) => !RESERVED_NAMES.includes(n), {
    message: `is a reserved subcommand name (${RESERVED_NAMES.join(', ')}); choose another`,
  });

/** SSH settings a host may set, or the top level may set for every host. */
const sshSettings = {
  host_key_checking: z
    .enum(['strict', 'accept-new', 'off'])
    .optional()
    .describe(
      'strict (default): unknown or changed host keys fail; accept-new: trust and record unknown keys; off: no check.',
    ),
  known_hosts_file: z
    .string()
    .min(1)
    .optional()
    .describe('known_hosts file to check and (accept-new) append to.'),
  proxy_jump: z
    .string()
    .min(1)
    .optional()
    .describe('Bastion(s) to connect through, like OpenSSH ProxyJump: `user@bastion:22` or `a,b`.'),
  forward_agent: z
    .boolean()
    .optional()
    .describe('Forward the local ssh-agent to the host (for hooks that fetch private code).'),
  connect_timeout: z
    .number()
    .positive()
    .optional()
    .describe('Seconds to wait for a connection (default 10).'),
};

export const hostSchema = z
  .strictObject({
    ...sshSettings,
    hostname: z.string().min(1).optional().describe('Address to connect to. Defaults to the host alias.'),
    user: z.string().min(1).optional().describe('SSH user. Defaults to the local user.'),
    port: z.number().int().min(1).max(65535).optional().describe('SSH port (default 22).'),
    deploy_path: z
      .string()
      .min(1)
      .describe(
        'Directory that holds releases/, shared/, current and .deploy/. Absolute on remote hosts; may be relative to deploy.yml when local: true, but never inside `source`.',
      ),
    stage: name
      .optional()
      .describe('Stage this host belongs to, e.g. production. `deploy <stage>` selects it.'),
    labels: z
      .record(z.string(), z.string())
      .default({})
      .describe('Free-form labels, selected with `deploy key=value`.'),
    identity_file: z.string().min(1).optional().describe('Private key file; `~` is expanded.'),
    local: z.boolean().default(false).describe('Deploy on this machine with child processes instead of SSH.'),
    healthcheck: healthcheckSchema.optional().describe('Overrides the top-level healthcheck for this host.'),
    fetch: fetchMode.optional().describe('Overrides the top-level `fetch` for this host.'),
    confirm: z
      .boolean()
      .optional()
      .describe(
        'Ask "Deploy <application> to <hosts>? [y/N]" before a deploy, rollback, task or run that selects this host; without a terminal refuse (exit 2) unless --yes.',
      ),
  })
  .superRefine(
    (h, ctx) => {
      // Runs even when other keys of the host are wrong, so every problem is reported at once.
      const p: unknown = h?.deploy_path;
      if (typeof p !== 'string' || p === '') return;
      if (h.local !== true && !p.startsWith('/')) {
        ctx.addIssue({
          code: 'custom',
          path: ['deploy_path'],
          message:
            'must be an absolute path on a remote host (only `local: true` hosts may use a relative one)',
        });
        return;
      }
      if (p.startsWith('/') && !isNormalizedAbsolute(p)) {
        ctx.addIssue({
          code: 'custom',
          path: ['deploy_path'],
          message: 'must be normalized (no `//`, `/./`, `/../` or trailing `/`)',
        });
      } else if (SYSTEM_DIRS.includes(p)) {
        ctx.addIssue({
          code: 'custom',
          path: ['deploy_path'],
          message: `must not be the system directory ${p}`,
        });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

export const configSchema = z
  .strictObject({
    application: z.string().min(1).describe('Name of the application, shown in output and the lock.'),
    source: z.string().min(1).default('.').describe('Local directory to upload, relative to deploy.yml.'),
    keep_releases: z
      .number()
      .int()
      .min(1)
      .default(5)
      .describe(
        'How many successful releases to keep; older ones are pruned. The release live before a deploy stays as the rollback target, unless this is 1.',
      ),
    exclude: z
      .array(z.string().min(1))
      .default([])
      .describe('gitignore-style patterns left out of the upload (a `.deployignore` in source adds more).'),
    respect_gitignore: z
      .boolean()
      .default(true)
      .describe(
        'In a git work tree, leave out what git ignores (every .gitignore, .git/info/exclude, the global excludes file), exactly as git reads them. false uploads ignored files too.',
      ),
    include: z
      .array(relativePath)
      .default([])
      .describe(
        'Git-ignored paths to upload anyway (a directory with everything in it): the output of a local build step, e.g. public/build. exclude and .deployignore still win.',
      ),
    revision: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Deploy this commit (tag, branch or sha) of the repository holding `source`, read from git, instead of the working tree: what `git archive` gives (export-ignore paths left out, export-subst expanded, eol=crlf and ident applied as the committed attributes say; the local core.autocrlf is not used); `--revision` overrides it.',
      ),
    require_clean: z
      .boolean()
      .default(false)
      .describe(
        'Refuse to deploy a working tree with uncommitted changes (exit 2, before any host is contacted); `--require-clean` sets it.',
      ),
    skip_unchanged: z
      .boolean()
      .default(false)
      .describe(
        'Make no release when every host already runs what this deploy would give it: the same files, REVISION, deploy.yml and shipshape version, nothing changed in the live release on the server, its shared paths all there and linked from it, and its deploy finished. The deploy reads the hosts, unlocks them and exits 0 with `unchanged`; no hook after the changes stage runs (those of setup, lock, probe and changes have run by then) and no notification is sent (like Deployer’s deploy:check_remote). Needs `upload: incremental` or `copy` (a full upload compares nothing). `--skip-unchanged` / `--no-skip-unchanged` override it.',
      ),
    upload: z
      .enum(['incremental', 'full', 'copy'])
      .optional()
      .describe(
        'Default: the recipe’s (copy for WordPress), else incremental. incremental: build the release from the previous one with hard links and send only new and changed files (the newest pruned release is kept as .deploy/spare and moved into the next one); full: send everything; copy: like incremental but with independent copies, for apps that write into their release.',
      ),
    compression: z
      .enum(['none', 'gzip'])
      .optional()
      .describe(
        'Compress the upload stream: none or gzip (level 1). Default: none for local and loopback hosts, gzip otherwise.',
      ),
    shared_dirs: z
      .array(sharedDir)
      .default([])
      .describe('Directories that live in shared/ and are linked into every release.'),
    shared_files: z
      .array(sharedFile)
      .default([])
      .describe('Files that live in shared/ and are linked into every release; required unless optional.'),
    ...persistenceSettings,
    release_changes: z
      .enum(['warn', 'fail'])
      .default('warn')
      .describe(
        'Files changed, added or removed in the live release since it went live (outside shared and writable paths) are listed and copied to shared/.rescued/<release>/ before the switch; fail stops the deploy there (exit 1) instead of going on.',
      ),
    default_selector: z
      .string()
      .min(1)
      .optional()
      .describe('Selector used when `deploy` is run without one.'),
    confirm: z
      .union([z.boolean(), z.array(z.string().min(1))], {
        error: 'must be true, false or a list of selectors such as `[production]`',
      })
      .default(false)
      .describe(
        'true: ask before every deploy, rollback, task or run; a list of selectors (`[production, role=db]`): ask when the run selects a host one of them picks. Without a terminal the run is refused (exit 2) unless --yes.',
      ),
    notify: notifySchema.optional(),
    ssh_config_file: z
      .string()
      .min(1)
      .optional()
      .describe('OpenSSH client config to read (default ~/.ssh/config).'),
    ...sshSettings,
    hosts: z
      .record(name, hostSchema)
      .refine((h) => Object.keys(h).length > 0, { message: 'declare at least one host' })
      .describe('Targets by alias.'),
    hooks: hooksSchema,
    tasks: tasksSchema,
    healthcheck: healthcheckSchema.optional(),
    ...rolloutSettings,
    ...artifactSettings,
  })
  // Both run even when other keys are wrong (each reads only what it needs, defensively), so a
  // missing task or a pull without a store is reported with the rest, not on the next run.
  .superRefine(checkTaskReferences, { when: isMapping })
  .superRefine(checkFetch, { when: isMapping })
  .describe('shipshape deploy.yml');

export type Config = z.output<typeof configSchema>;

function isMapping(payload: { value: unknown }): boolean {
  return typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value);
}

/** `fetch: pull` needs a store hosts can reach on their own: an s3:// one. */
function checkFetch(
  c: { fetch?: unknown; artifacts?: { store?: unknown }; hosts?: Record<string, { fetch?: unknown } | null> },
  ctx: z.RefinementCtx,
): void {
  const store: unknown = c.artifacts?.store;
  // A store that is not a string has its own problem; which kind of store it is, nobody knows.
  if (typeof store !== 'string' || store.startsWith('s3://')) return;
  const message = `pull needs an s3:// store (artifacts.store is ${JSON.stringify(store)}); use push or auto`;
  if (c.fetch === 'pull') ctx.addIssue({ code: 'custom', path: ['fetch'], message });
  for (const [alias, h] of Object.entries(c.hosts ?? {})) {
    if (h?.fetch === 'pull') ctx.addIssue({ code: 'custom', path: ['hosts', alias, 'fetch'], message });
  }
}
export type HostConfig = z.output<typeof hostSchema>;
/** A shared file as deploy.yml writes it: a plain path is required, with no other option set. */
export type SharedFileEntry = {
  path: string;
  optional: boolean;
  when_absent?: 'link' | 'empty';
  seed_shared: boolean;
};

export const sharedFiles = (c: Pick<Config, 'shared_files'>): SharedFileEntry[] =>
  c.shared_files.map((f) => (typeof f === 'string' ? { path: f, optional: false, seed_shared: false } : f));

export const sharedDirs = (c: Pick<Config, 'shared_dirs'>): { path: string; seed_shared: boolean }[] =>
  c.shared_dirs.map((d) => (typeof d === 'string' ? { path: d, seed_shared: false } : d));
