import fs from 'node:fs/promises';
import path from 'node:path';
import ignore from 'ignore';

export type EntryType = 'file' | 'dir' | 'symlink';

export interface SourceEntry {
  /** POSIX path relative to the source root. */
  path: string;
  type: EntryType;
  mode: number;
  size: number;
  mtimeMs: number;
  linkTarget?: string;
  /** With size and the times, the key of the local hash cache: any change to the file changes one of them. */
  ino?: number;
  ctimeMs?: number;
}

/** Never worth uploading: the repository itself. */
export const ALWAYS_EXCLUDED = ['.git/'];
export const IGNORE_FILE = '.deployignore';

export async function readIgnorePatterns(source: string, exclude: readonly string[]): Promise<string[]> {
  const fromFile = await fs.readFile(path.join(source, IGNORE_FILE), 'utf8').catch(() => '');
  return [...ALWAYS_EXCLUDED, ...exclude, ...fromFile.split(/\r?\n/)];
}

/**
 * Walks the source tree (not following symlinks), honoring gitignore-style patterns.
 * Entries come depth-first in name order, each directory before its contents. The lstat
 * calls of one directory run together: one at a time, 10,000 of them cost about a second.
 */
export async function scanSource(source: string, patterns: readonly string[]): Promise<SourceEntry[]> {
  const ig = ignore().add([...patterns]);
  async function walk(rel: string): Promise<SourceEntry[]> {
    const dirents = await fs.readdir(path.join(source, rel), { withFileTypes: true });
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const kept = dirents
      .map((d) => ({ d, p: rel ? `${rel}/${d.name}` : d.name }))
      .filter(({ d, p }) => !ig.ignores(d.isDirectory() ? `${p}/` : p));
    const groups = await Promise.all(kept.map(({ p }) => visit(p)));
    return groups.flat();
  }
  async function visit(p: string): Promise<SourceEntry[]> {
    const abs = path.join(source, p);
    const st = await fs.lstat(abs);
    const base = {
      path: p,
      mode: st.mode & 0o7777,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
      ctimeMs: st.ctimeMs,
    };
    if (st.isSymbolicLink()) {
      return [{ ...base, type: 'symlink', size: 0, linkTarget: await fs.readlink(abs) }];
    }
    if (st.isDirectory()) return [{ ...base, type: 'dir', size: 0 }, ...(await walk(p))];
    if (st.isFile()) return [{ ...base, type: 'file', size: st.size }];
    // Sockets, FIFOs and devices are not part of an application; they are skipped.
    return [];
  }
  return walk('');
}
