import { z } from 'zod';
import { isSafeRelative, stripTrailingSlash } from '../config/paths.js';

/**
 * A recipe is data: how to recognise a framework and what of its release must outlive a deploy.
 * The schema is strict so a misspelt key in recipes/*.yml fails loudly instead of being ignored.
 *
 * Composition, in the order it is applied (see also resolvePersistence in detect.ts):
 *   1. `_universal.yml`: its `public_exclude` is the root of every recipe's `extends` chain.
 *   2. `extends`: a recipe's lists are its parent's lists followed by its own (union, order kept);
 *      for the same shared file or hook id, the child's entry wins. Scalars (`public_dir`, `priority`,
 *      `detect`, `contributes`) are never inherited.
 *   3. Detection: the primary recipe is the matched one with the highest `priority`.
 *   4. `contributes`: every other matched recipe adds the lists it names to the primary's
 *      (e.g. vue adds its `public_exclude` to laravel). The primary's entries win on conflict.
 *   5. The user's deploy.yml lists extend the result; `!item` removes an item.
 */

/** Hook points are named after the stage they run around: `before_<stage>` / `after_<stage>`. */
export const HOOK_POINTS = ['after_shared', 'after_writable', 'before_symlink', 'after_symlink'] as const;
export type HookPoint = (typeof HOOK_POINTS)[number];

/** The list fields that compose through `extends`, `contributes` and the user's config. */
export const LIST_KEYS = [
  'shared_dirs',
  'shared_files',
  'writable_dirs',
  'public_exclude',
  'shared_skeleton',
  'ephemeral',
] as const;
export type ListKey = (typeof LIST_KEYS)[number];

// duplicates: like deploy.yml's relativePath (config/schema.ts), with a recipe's own message (no `.` either).
const relativePath = z
  .string()
  .refine(isSafeRelative, { message: 'must be a relative path inside the release, without `.` or `..`' })
  .transform(stripTrailingSlash);

/** public_exclude matches top-level entries of public_dir by exact name, so a `/` can never match. */
const entryName = z
  .string()
  .regex(/^[^/\0]+$/, { message: 'must be a single entry name inside public_dir (no `/`)' })
  .refine((n) => n !== '.' && n !== '..', { message: 'must not be `.` or `..`' });

const packageName = z.string().regex(/^\S+$/, { message: 'must be a package name without spaces' });

const recipeName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'use lowercase letters, digits and `-`' });

export type Rule =
  | { files: string[] }
  | { dependencies: string[] }
  | { composer: string[] }
  | { any: Rule[] }
  | { all: Rule[] };

const RULE_HELP =
  'a rule is exactly one of { files: [...] }, { dependencies: [...] }, { composer: [...] }, { any: [rules] }, { all: [rules] }';

/**
 * Leaf lists mean "any of": `{ dependencies: [nuxt, nuxt3] }` holds when either is declared.
 * Use `all` for a conjunction. Every leaf reads parsed data (a path exists, a key of a JSON map),
 * never a substring of a file, so `next-tick` or a `next-lint` script can not pass for Next.js.
 *
 * Written as one object with five optional keys plus an "exactly one" check, rather than a union
 * of five objects: a union that fails reports only "invalid input" at the rule itself, while this
 * form reports the problem at its own path (e.g. `detect.any.1.files.0`).
 */
const ruleSchema: z.ZodType<Rule> = z.lazy(() =>
  z
    .strictObject(
      {
        files: z
          .array(relativePath)
          .min(1)
          .optional()
          .describe('Holds when any listed path exists, relative to the app root.'),
        dependencies: z
          .array(packageName)
          .min(1)
          .optional()
          .describe('Holds when any name is a key of package.json `dependencies` or `devDependencies`.'),
        composer: z
          .array(packageName)
          .min(1)
          .optional()
          .describe('Holds when any name is a key of composer.json `require` or `require-dev`.'),
        any: z.array(ruleSchema).min(1).optional().describe('Holds when one sub-rule holds.'),
        all: z.array(ruleSchema).min(1).optional().describe('Holds when every sub-rule holds.'),
      },
      {
        error: (issue) =>
          issue.code === 'unrecognized_keys'
            ? `unknown rule ${issue.keys.map((k) => `\`${k}\``).join(', ')}; ${RULE_HELP}`
            : issue.code === 'invalid_type'
              ? RULE_HELP
              : undefined,
      },
    )
    .refine((r) => Object.values(r).filter((v) => v !== undefined).length === 1, {
      message: RULE_HELP,
      // An unknown key was already reported with the same help; say it once.
      when: (payload) => payload.issues.length === 0,
    })
    .transform((r) => r as Rule),
);

export interface SharedFile {
  path: string;
  optional: boolean;
  /** What an optional file shared/ lacks becomes: a link to where it will be, or an empty file there. */
  when_absent: 'link' | 'empty';
}

const sharedFile = z.union([
  relativePath,
  z.strictObject({
    path: relativePath,
    optional: z.boolean().default(false).describe('When true, a file missing from shared/ is not an error.'),
    when_absent: z
      .enum(['link', 'empty'])
      .default('link')
      .describe(
        'An optional file shared/ lacks: `link` links it anyway (the app’s first write creates it in shared/); `empty` creates it empty and writable by the app. Use empty for files an app only writes into when they exist or accepts empty (SQLite databases, WordPress’s .htaccess); never for secrets such as .env.',
      ),
  }),
]);

const toSharedFile = (f: string | Omit<SharedFile, 'when_absent'> | SharedFile): SharedFile =>
  typeof f === 'string' ? { path: f, optional: false, when_absent: 'link' } : { when_absent: 'link', ...f };

const hookSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9:_-]*$/, { message: 'use lowercase letters, digits, `:`, `_` and `-`' })
      .describe('Names the hook so a child recipe can replace it and a user can enable an opt-in one.'),
    run: z.string().min(1).describe('Shell command, run with the new release as working directory.'),
    optional: z
      .boolean()
      .default(false)
      .describe('When true, a failure is reported but does not fail the deploy.'),
    when_command_exists: z
      .string()
      .regex(/^[A-Za-z0-9._+-]+$/, { message: 'must be a bare command name' })
      .optional()
      .describe('Skip the hook unless `command -v <name>` succeeds on the host.'),
    when_file_exists: relativePath.optional().describe('Skip the hook unless this release path exists.'),
    opt_in: z
      .boolean()
      .default(false)
      .describe('When true, the hook runs only if the user lists its id in `enable_hooks`.'),
  })
  .describe('A command the recipe runs at a hook point; kept as data so plan() can show it.');

export type Hook = z.output<typeof hookSchema>;

const pathList = (what: string) => z.array(relativePath).default([]).describe(what);

export const recipeFileSchema = z
  .strictObject({
    name: recipeName.describe('Must equal the file name without `.yml`.'),
    description: z.string().min(1),
    detect: ruleSchema,
    priority: z
      .number()
      .int()
      .min(0)
      .describe('When several recipes match, the highest wins: laravel over vue, nextjs over react.'),
    extends: recipeName.optional().describe('Recipe whose lists come before this one’s.'),
    contributes: z
      .array(z.enum(LIST_KEYS))
      .default([])
      .describe('Lists this recipe adds to a different primary recipe when both are detected.'),
    shared_dirs: pathList('Directories kept in shared/ and linked into every release.'),
    shared_files: z
      .array(sharedFile)
      .default([])
      .transform((files) => files.map(toSharedFile))
      .describe('Files kept in shared/ and linked into every release; required unless optional.'),
    writable_dirs: pathList('Release paths the web server user must be able to write.'),
    upload: z
      .enum(['incremental', 'full', 'copy'])
      .optional()
      .describe(
        'The upload mode this kind of app needs unless deploy.yml sets one: copy for apps that write into their own code (WordPress updating itself), so no write reaches an older release through a hard link.',
      ),
    public_dir: relativePath
      .nullable()
      .describe(
        'Directory whose top-level entries are shared except public_exclude; null when the app has no such directory.',
      ),
    public_exclude: z
      .array(entryName)
      .default([])
      .describe(
        'Top-level entries of public_dir that are build output or framework code and stay per release.',
      ),
    shared_skeleton: pathList(
      'Directories created inside shared/ before the first link (framework expects them).',
    ),
    ephemeral: pathList(
      'Release paths rebuilt on every deploy (caches); created if missing, never moved to shared/.',
    ),
    hooks: z
      .partialRecord(z.enum(HOOK_POINTS), z.array(hookSchema), {
        // Every issue of the record itself, other than "not a map", is about an unknown key.
        error: (issue) =>
          issue.code === 'invalid_type' ? undefined : `hook points are ${HOOK_POINTS.join(', ')}`,
      })
      .default({})
      .describe('Commands by hook point, run in list order.'),
  })
  .describe('shipshape framework recipe');

export const universalSchema = z
  .strictObject({
    description: z.string().min(1),
    public_exclude: z.array(entryName).min(1),
  })
  .describe('Exclusions every recipe starts from.');

export type RecipeFile = z.output<typeof recipeFileSchema>;
export type Universal = z.output<typeof universalSchema>;

/** A recipe after its `extends` chain and the universal list were merged into it. */
export type Recipe = RecipeFile;

// ---------------------------------------------------------------------------------------------
// Composition helpers shared by the loader (extends) and the resolver (contributes, user config).

/** Order-preserving union: items of `base` first, then new items of `more`. */
export function unionList(base: readonly string[], more: readonly string[]): string[] {
  return [...new Set([...base, ...more])];
}

/**
 * Union of shared files by path. When both lists name a path, `winner` decides whose options
 * (`optional`) are kept; the position stays where the path first appeared.
 */
export function unionSharedFiles(
  base: readonly SharedFile[],
  more: readonly SharedFile[],
  winner: 'base' | 'more',
): SharedFile[] {
  const byPath = new Map<string, SharedFile>();
  for (const f of base) byPath.set(f.path, { ...f });
  for (const f of more) {
    if (!byPath.has(f.path) || winner === 'more') byPath.set(f.path, { ...f });
  }
  return [...byPath.values()];
}

/** Hooks of `child` replace those of `parent` with the same id, in place; new ones are appended. */
export function mergeHooks(parent: RecipeFile['hooks'], child: RecipeFile['hooks']): RecipeFile['hooks'] {
  const out: RecipeFile['hooks'] = {};
  for (const point of HOOK_POINTS) {
    const list = [...(parent[point] ?? [])];
    for (const hook of child[point] ?? []) {
      const at = list.findIndex((h) => h.id === hook.id);
      if (at >= 0) list[at] = hook;
      else list.push(hook);
    }
    if (list.length > 0) out[point] = list;
  }
  return out;
}

/** Adds the lists named by `keys` from `more` to `base`; `base` wins on a shared file conflict. */
export function addLists<T extends Pick<Recipe, ListKey>>(
  base: T,
  more: Pick<Recipe, ListKey>,
  keys: readonly ListKey[],
): T {
  const out = { ...base };
  for (const key of keys) {
    if (key === 'shared_files')
      out.shared_files = unionSharedFiles(base.shared_files, more.shared_files, 'base');
    else out[key] = unionList(base[key], more[key]);
  }
  return out;
}
