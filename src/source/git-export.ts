import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { extract } from 'tar-stream';
import { git, nulFields } from './git.js';
import type { Commit } from './git-commit.js';

/**
 * What `git archive` makes of a commit besides copying its blobs, and so what a deploy of a
 * commit does too (Capistrano deploys `git archive`): a path with the `export-ignore` attribute
 * is left out, and a file with `export-subst` has its `$Format:…$` placeholders expanded. Line
 * endings, `ident` and filters stay the blobs' (docs/configuration.md, `revision`): they are how
 * a checkout looks on one machine, not what the repository says to ship.
 */
export interface ExportRules {
  /** Repository paths left out, directories with a trailing `/` (everything below goes too). */
  ignored: ReadonlySet<string>;
  /** Repository paths of files whose placeholders are expanded. */
  subst: ReadonlySet<string>;
}

/**
 * The attributes as `git archive` reads them: the commit's own .gitattributes files (through a
 * temporary index, as git 2.39's check-attr has no `--source`), then .git/info/attributes and
 * the global attributes file. `paths` are repository paths, directories with a trailing `/`,
 * which is how git archive asks (a `docs/` pattern matches only so).
 */
export async function readExportRules(c: Commit, paths: readonly string[]): Promise<ExportRules> {
  const ignored = new Set<string>();
  const subst = new Set<string>();
  if (paths.length === 0) return { ignored, subst };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'shipshape-attributes-'));
  try {
    const env = { GIT_INDEX_FILE: path.join(dir, 'index') };
    await git(c.loc.top, ['read-tree', c.sha], env);
    const input = Buffer.from(`${paths.join('\0')}\0`, 'utf8');
    const out = await git(
      c.loc.top,
      ['check-attr', '--cached', '-z', '--stdin', 'export-ignore', 'export-subst'],
      env,
      input,
    );
    // "<path>\0<attribute>\0<value>\0" per path and attribute.
    const f = nulFields(out);
    for (let i = 0; i + 2 < f.length; i += 3) {
      if (f[i + 2] !== 'set') continue;
      if (f[i + 1] === 'export-ignore') ignored.add(f[i]!);
      else if (f[i + 1] === 'export-subst') subst.add(f[i]!);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return { ignored, subst };
}

/** Pathspecs per `git archive` call: a command line has a length limit. */
const PATHS_PER_ARCHIVE = 500;

/**
 * The bytes `git archive` gives for these files (repository paths), which expands what git's
 * pretty formats mean exactly as git does; nothing here parses a placeholder.
 */
export async function readSubstituted(c: Commit, files: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const env = { GIT_LITERAL_PATHSPECS: '1' };
  for (let i = 0; i < files.length; i += PATHS_PER_ARCHIVE) {
    const tar = await git(
      c.loc.top,
      ['archive', '--format=tar', c.sha, '--', ...files.slice(i, i + PATHS_PER_ARCHIVE)],
      env,
    );
    await readTar(tar, out);
  }
  return out;
}

function readTar(tar: Buffer, out: Map<string, Buffer>): Promise<void> {
  return new Promise((resolve, reject) => {
    const x = extract();
    x.on('entry', (header, stream, next) => {
      const pieces: Buffer[] = [];
      stream.on('data', (b) => void pieces.push(b as Buffer));
      stream.on('end', () => {
        if (header.type === 'file') out.set(header.name, Buffer.concat(pieces));
        next();
      });
      stream.resume();
    });
    x.on('finish', resolve);
    x.on('error', reject);
    x.end(tar);
  });
}

/**
 * An `ls-tree -t` field's path as the attributes are asked about it: from the repository's top
 * (`prefix`: where the listed tree sits), a directory's with a trailing `/`.
 */
export function attributePath(field: string, prefix = ''): string | undefined {
  const tab = field.indexOf('\t');
  if (tab < 0) return undefined;
  const type = field.slice(0, tab).split(/ +/)[1];
  const p = prefix + field.slice(tab + 1);
  return type === 'tree' || type === 'commit' ? `${p}/` : p;
}

/** True for a path at or below one of `ignored` (directories there end in `/`). */
export function isExportIgnored(rules: ExportRules, p: string): boolean {
  if (rules.ignored.has(p) || rules.ignored.has(`${p}/`)) return true;
  for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1))
    if (rules.ignored.has(p.slice(0, i + 1))) return true;
  return false;
}

/**
 * Makes a checkout of the commit at `top` hold what `git archive` gives, before the local build
 * steps run in it: export-ignored paths removed, export-subst files expanded. The files changed
 * so are marked skip-worktree, so that the build's own `git status` (`git describe --dirty`,
 * setuptools_scm) still sees a clean checkout of the commit; the upload hashes such files afresh.
 */
export async function applyExportRules(c: Commit, top: string): Promise<void> {
  const listed = await git(c.loc.top, ['ls-tree', '-r', '-t', '-z', '--full-tree', c.sha]);
  const paths = nulFields(listed).flatMap((field) => attributePath(field) ?? []);
  const rules = await readExportRules(c, paths);
  for (const p of rules.ignored) await fs.rm(path.join(top, p), { recursive: true, force: true });
  const subst = [...rules.subst].filter((p) => !isExportIgnored(rules, p));
  for (const [p, bytes] of await readSubstituted(c, subst)) await fs.writeFile(path.join(top, p), bytes);
  const changed = [...subst, ...paths.filter((p) => !p.endsWith('/') && isExportIgnored(rules, p))];
  if (changed.length === 0) return;
  const input = Buffer.from(`${changed.join('\0')}\0`, 'utf8');
  await git(top, ['update-index', '--skip-worktree', '-z', '--stdin'], {}, input);
}
