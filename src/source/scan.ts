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
}

/** Never worth uploading: the repository itself. */
export const ALWAYS_EXCLUDED = ['.git/'];
export const IGNORE_FILE = '.deployignore';

export async function readIgnorePatterns(source: string, exclude: readonly string[]): Promise<string[]> {
  const fromFile = await fs.readFile(path.join(source, IGNORE_FILE), 'utf8').catch(() => '');
  return [...ALWAYS_EXCLUDED, ...exclude, ...fromFile.split(/\r?\n/)];
}

/** Walks the source tree (not following symlinks), honoring gitignore-style patterns. */
export async function scanSource(source: string, patterns: readonly string[]): Promise<SourceEntry[]> {
  const ig = ignore().add([...patterns]);
  const out: SourceEntry[] = [];
  async function walk(rel: string): Promise<void> {
    const dirents = await fs.readdir(path.join(source, rel), { withFileTypes: true });
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      const isDir = d.isDirectory();
      if (ig.ignores(isDir ? `${p}/` : p)) continue;
      const abs = path.join(source, p);
      const st = await fs.lstat(abs);
      const mode = st.mode & 0o7777;
      if (st.isSymbolicLink()) {
        out.push({
          path: p,
          type: 'symlink',
          mode,
          size: 0,
          mtimeMs: st.mtimeMs,
          linkTarget: await fs.readlink(abs),
        });
      } else if (st.isDirectory()) {
        out.push({ path: p, type: 'dir', mode, size: 0, mtimeMs: st.mtimeMs });
        await walk(p);
      } else if (st.isFile()) {
        out.push({ path: p, type: 'file', mode, size: st.size, mtimeMs: st.mtimeMs });
      }
      // Sockets, FIFOs and devices are not part of an application; they are skipped.
    }
  }
  await walk('');
  return out;
}
