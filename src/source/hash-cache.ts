import fs from 'node:fs/promises';
import path from 'node:path';
import { cacheEntry } from '../definitions/cache-dir.js';
import { HashRows } from './hash-rows.js';
import type { SourceEntry } from './scan.js';

/**
 * Remembers file hashes between deploys, keyed by everything lstat says about a file (size,
 * mtime, ctime, inode): any write changes ctime, so a hit means the bytes are the ones that
 * were hashed. It only saves time; a missing or damaged cache just means hashing again.
 */
export interface HashCache {
  get(e: SourceEntry): string | undefined;
  /** `readAt`: when reading the file began, if not just now (a batch's start). */
  set(e: SourceEntry, sha256: string, readAt?: number): void;
  save(): Promise<void>;
}

/** A file written this recently may be written again within the clock's resolution: not cached. */
export const SETTLE_MS = 2_000;

const cacheFileFor = (root: string, env: NodeJS.ProcessEnv = process.env): string =>
  `${cacheEntry('hashes', path.resolve(root), env)}.json`;

const shared = new Map<string, Promise<HashCache>>();

/** One cache per source per process: the upload and the persistence stage's public/ hashes share it. */
export function sharedHashCache(root: string): Promise<HashCache> {
  const key = path.resolve(root);
  let cache = shared.get(key);
  if (!cache) shared.set(key, (cache = loadHashCache(key)));
  return cache;
}

export async function loadHashCache(root: string, env: NodeJS.ProcessEnv = process.env): Promise<HashCache> {
  const file = cacheFileFor(root, env);
  let rows = new HashRows();
  try {
    rows = HashRows.parse(await fs.readFile(file)) ?? rows;
  } catch {
    /* no cache yet, or unreadable: start empty */
  }
  let dirty = false;
  return {
    get: (e) => (e.ino !== undefined ? rows.get(e) : undefined),
    set: (e, sha256, readAt = Date.now()) => {
      if (e.ino === undefined || e.ctimeMs === undefined) return;
      // Settled when it was read: a write in the same clock tick after the read would not show.
      if (readAt - Math.max(e.mtimeMs, e.ctimeMs) < SETTLE_MS) return;
      if (rows.get(e) === sha256) return;
      rows.set(e, sha256);
      dirty = true;
    },
    save: async () => {
      if (!dirty) return;
      dirty = false;
      // Written aside and renamed, so a concurrent deploy never reads half a file.
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(tmp, rows.lines(root));
        await fs.rename(tmp, file);
      } catch {
        await fs.rm(tmp, { force: true }).catch(() => undefined);
      }
    },
  };
}
