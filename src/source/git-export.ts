import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { extract } from 'tar-stream';
import { git, nulFields } from './git.js';
import type { Commit } from './git-commit.js';
import { forgetStat } from './git-worktree-bytes.js';

/**
 * What `git archive` makes of a commit besides copying its blobs, and so what a deploy of a
 * commit does too (Capistrano deploys `git archive`): a path with the `export-ignore` attribute
 * is left out, and a file `git archive` writes other than its blob is its bytes: `export-subst`
 * placeholders expanded, and what the committed attributes convert on the way out (`eol=crlf`,
 * `ident`, `working-tree-encoding`). This machine's `core.autocrlf` and `core.eol` are left out
 * (docs/configuration.md, `revision`): they are how one checkout looks, not what the repository
 * says to ship; a server's git has neither. A filter is not run: a Git LFS file is its pointer,
 * as git archive gives it where git-lfs is not installed (smudged, a repository's large files
 * would all be held in memory here).
 */
export interface ExportRules {
  /** Repository paths left out, directories with a trailing `/` (everything below goes too). */
  ignored: ReadonlySet<string>;
  /** Repository paths of files whose bytes are `git archive`'s, not their blob's. */
  rewritten: ReadonlySet<string>;
}

const ATTRIBUTES = ['export-ignore', 'export-subst', 'text', 'eol', 'ident', 'working-tree-encoding'];

/** A file's attributes as check-attr gives them: `set`, `unset`, `unspecified` or a value. */
type Attributes = Partial<Record<(typeof ATTRIBUTES)[number], string>>;

/**
 * Whether `git archive` (core.autocrlf and core.eol at git's defaults) may write other bytes
 * than the blob's; git itself then makes them. `text` or `text=auto` alone writes LF, which a
 * blob already has: that is the common `* text=auto`, and it stays a blob.
 */
function isRewritten(a: Attributes): boolean {
  return (
    a['export-subst'] === 'set' ||
    a.ident === 'set' ||
    (a.eol === 'crlf' && a.text !== 'unset') ||
    (a['working-tree-encoding'] !== undefined &&
      !['unspecified', 'unset'].includes(a['working-tree-encoding']))
  );
}

/**
 * The attributes as `git archive` reads them: the commit's own .gitattributes files (through a
 * temporary index, as git 2.39's check-attr has no `--source`), then .git/info/attributes and
 * the global attributes file. `paths` are repository paths, directories with a trailing `/`,
 * which is how git archive asks (a `docs/` pattern matches only so).
 */
export async function readExportRules(c: Commit, paths: readonly string[]): Promise<ExportRules> {
  const ignored = new Set<string>();
  const rewritten = new Set<string>();
  if (paths.length === 0) return { ignored, rewritten };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'shipshape-attributes-'));
  try {
    const env = { GIT_INDEX_FILE: path.join(dir, 'index') };
    await git(c.loc.top, ['read-tree', c.sha], env);
    const input = Buffer.from(`${paths.join('\0')}\0`, 'utf8');
    const out = await git(c.loc.top, ['check-attr', '--cached', '-z', '--stdin', ...ATTRIBUTES], env, input);
    // "<path>\0<attribute>\0<value>\0" per path and attribute, a path's attributes together.
    const f = nulFields(out);
    const byPath = new Map<string, Attributes>();
    for (let i = 0; i + 2 < f.length; i += 3) {
      const a = byPath.get(f[i]!) ?? {};
      a[f[i + 1]!] = f[i + 2]!;
      byPath.set(f[i]!, a);
    }
    for (const [p, a] of byPath) {
      if (a['export-ignore'] === 'set') ignored.add(p);
      else if (!p.endsWith('/') && isRewritten(a)) rewritten.add(p);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return { ignored, rewritten };
}

/** Pathspecs per `git archive` call: a command line has a length limit. */
const PATHS_PER_ARCHIVE = 500;

/**
 * The bytes `git archive` gives for these files (repository paths), which expands what git's
 * pretty formats mean and converts what attributes say exactly as git does; nothing here parses
 * a placeholder or a line ending. core.autocrlf and core.eol are git's defaults, as on a server.
 */
export async function readSubstituted(c: Commit, files: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const env = { GIT_LITERAL_PATHSPECS: '1' };
  for (let i = 0; i < files.length; i += PATHS_PER_ARCHIVE) {
    const tar = await git(
      c.loc.top,
      [
        ...['-c', 'core.autocrlf=false', '-c', 'core.eol=lf'],
        ...['archive', '--format=tar', c.sha, '--', ...files.slice(i, i + PATHS_PER_ARCHIVE)],
      ],
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
 * steps run in it: export-ignored paths removed, and the files git archive rewrites as it writes
 * them. The build's own `git status` (`git describe --dirty`, setuptools_scm) must still see a
 * clean checkout of the commit: the files removed are marked skip-worktree, the files rewritten
 * assume-unchanged. Not skip-worktree: with the developer's sparse checkout on (core.sparseCheckout
 * is shared by every worktree), git clears that mark from every file present on disk, and an
 * expanded export-subst file showed as modified. The upload hashes such files afresh.
 */
export async function applyExportRules(c: Commit, top: string): Promise<void> {
  const listed = await git(c.loc.top, ['ls-tree', '-r', '-t', '-z', '--full-tree', c.sha]);
  const paths = nulFields(listed).flatMap((field) => attributePath(field) ?? []);
  const rules = await readExportRules(c, paths);
  for (const p of rules.ignored) await fs.rm(path.join(top, p), { recursive: true, force: true });
  const rewritten = [...rules.rewritten].filter((p) => !isExportIgnored(rules, p));
  for (const [p, bytes] of await readSubstituted(c, rewritten)) await fs.writeFile(path.join(top, p), bytes);
  if (rewritten.length > 0) await forgetStat(top);
  const removed = paths.filter((p) => !p.endsWith('/') && isExportIgnored(rules, p));
  await mark(top, '--assume-unchanged', rewritten);
  await mark(top, '--skip-worktree', removed);
}

async function mark(top: string, flag: string, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  await git(top, ['update-index', flag, '-z', '--stdin'], {}, Buffer.from(`${paths.join('\0')}\0`, 'utf8'));
}
