import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { git, nulFields } from './git.js';
import { eachLimited } from './pool.js';

/** Files read and hashed at once: enough to keep the disk busy, few enough for the descriptors. */
const AT_ONCE = 16;

interface IndexEntry {
  mode: string;
  oid: string;
  path: string;
}

/**
 * Rewrites every tracked file of a fresh checkout whose bytes are not its blob's. Settings can be
 * overridden on the command line, but attributes cannot (git 2.39 has no --attr-source, and
 * .git/info/attributes is shared with the developer's tree): a committed `eol=crlf`, `ident`,
 * `working-tree-encoding` or filter (Git LFS) changes what a checkout writes. Checking each file
 * against its blob and writing the blob where they differ keeps such a repository deployable,
 * where refusing it would not, and makes the result exactly what the upload without local steps
 * sends. Returns the paths rewritten.
 */
export async function restoreCommittedBytes(dir: string): Promise<string[]> {
  const entries = await readIndex(dir);
  const results = await eachLimited(entries, AT_ONCE, async (e) =>
    (await isFaithful(dir, e)) ? undefined : e,
  );
  const differing: IndexEntry[] = [];
  for (const r of results) {
    if (r.status === 'rejected') throw r.reason;
    if (r.value) differing.push(r.value);
  }
  for (const e of differing) await writeBlob(dir, e);
  if (differing.length > 0) await forgetStat(dir);
  return differing.map((e) => e.path);
}

/**
 * The index remembers the size of what the checkout wrote; a rewritten file of another size would
 * count as modified without git reading it, and the build's own `git status` would say so. An
 * index read fresh from the commit has no sizes, so the refresh compares content instead (a file
 * with CRLF that `eol=crlf` makes, or `ident`'s expansion, cleans to its blob and is unchanged).
 */
export async function forgetStat(dir: string): Promise<void> {
  await git(dir, ['read-tree', 'HEAD']);
  // Exits 1 when a file still differs after cleaning; the upload does not depend on it.
  await git(dir, ['-c', 'core.autocrlf=false', '-c', 'core.eol=lf', 'update-index', '-q', '--refresh']).catch(
    () => undefined,
  );
}

/** The worktree's index: what the checkout wrote, with each path's blob. */
async function readIndex(dir: string): Promise<IndexEntry[]> {
  const out = await git(dir, ['ls-files', '--stage', '-z', '--full-name']);
  return nulFields(out).flatMap((field) => {
    // "<mode> <object> <stage>\t<path>"
    const tab = field.indexOf('\t');
    if (tab < 0) return [];
    const [mode, oid] = field.slice(0, tab).split(' ');
    // A submodule is an empty directory, as in the upload without local steps.
    return mode === '160000' ? [] : [{ mode: mode!, oid: oid!, path: field.slice(tab + 1) }];
  });
}

async function isFaithful(dir: string, e: IndexEntry): Promise<boolean> {
  const abs = path.join(dir, e.path);
  const st = await fs.lstat(abs).catch(() => undefined);
  if (!st) return false;
  if (e.mode === '120000')
    return st.isSymbolicLink() && blobId(e.oid, await fs.readlink(abs, { encoding: 'buffer' })) === e.oid;
  return st.isFile() && blobId(e.oid, await fs.readFile(abs)) === e.oid;
}

/** git's id of a blob with these bytes, in the repository's object format (told by the id's length). */
function blobId(like: string, bytes: Buffer): string {
  return createHash(like.length === 64 ? 'sha256' : 'sha1')
    .update(`blob ${bytes.length}\0`)
    .update(bytes)
    .digest('hex');
}

async function writeBlob(dir: string, e: IndexEntry): Promise<void> {
  const abs = path.join(dir, e.path);
  const bytes = await git(dir, ['cat-file', 'blob', e.oid]);
  await fs.rm(abs, { force: true, recursive: true });
  await fs.mkdir(path.dirname(abs), { recursive: true });
  if (e.mode === '120000') return fs.symlink(bytes, abs);
  await fs.writeFile(abs, bytes, { mode: e.mode === '100755' ? 0o755 : 0o644 });
}
