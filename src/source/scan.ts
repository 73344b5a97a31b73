import fsSync from 'node:fs';
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
  /** Whether git tracks the file; undefined outside a git work tree. */
  tracked?: boolean;
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
 * Entries come depth-first in name order, each directory before its contents.
 *
 * Synchronous calls on purpose: a sync lstat costs a few microseconds where the promise version
 * costs ten times that plus a heap object per call in flight (10,000 files: 0.06 s instead of
 * 0.5 s, and 100 MB less peak memory). Between directories the walk yields to the event loop,
 * so the SSH handshakes started alongside it go on instead of waiting for the whole scan.
 */
export async function scanSource(source: string, patterns: readonly string[]): Promise<SourceEntry[]> {
  const rules = ignore().add([...patterns]);
  const out: SourceEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    // `ignore` caches a result object for every path it is asked about, for the life of the
    // instance: 10 MB at 40,000 files, promoted and then garbage. A fresh instance per
    // directory (sharing the compiled rules) keeps that cache one listing long.
    const ig = ignore().add(rules);
    const dirents = fsSync.readdirSync(path.join(source, rel), { withFileTypes: true });
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (ig.ignores(d.isDirectory() ? `${p}/` : p)) continue;
      const abs = path.join(source, p);
      const st = fsSync.lstatSync(abs);
      if (st.isSymbolicLink()) {
        out.push(entryOf(p, 'symlink', st, fsSync.readlinkSync(abs)));
      } else if (st.isDirectory()) {
        out.push(entryOf(p, 'dir', st));
        await walk(p);
      } else if (st.isFile()) {
        out.push(entryOf(p, 'file', st));
      }
      // Sockets, FIFOs and devices are not part of an application; they are skipped.
    }
  };
  await walk('');
  return out;
}

/**
 * One object literal, so every entry shares V8's hidden class. Built by spreading a common
 * base, each entry got a hidden class of its own: about 350 bytes more per file, 14 MB at
 * 40,000 files.
 */
function entryOf(p: string, type: EntryType, st: fsSync.Stats, linkTarget?: string): SourceEntry {
  const size = type === 'file' ? st.size : 0;
  const entry: SourceEntry = {
    path: p,
    type,
    mode: st.mode & 0o7777,
    size,
    mtimeMs: st.mtimeMs,
    ino: st.ino,
    ctimeMs: st.ctimeMs,
  };
  if (linkTarget !== undefined) entry.linkTarget = linkTarget;
  return entry;
}
