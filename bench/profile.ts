import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hashEntries } from '../src/source/hash.js';
import type { HashCache } from '../src/source/hash-cache.js';
import { readIgnorePatterns, scanSource } from '../src/source/scan.js';
import { packTar } from '../src/source/tar.js';

export interface LocalProfile {
  scanMs: number;
  hashMs: number;
  packMs: number;
}

const noCache: HashCache = { get: () => undefined, set: () => undefined, save: async () => undefined };

/** Where local time goes: walking the tree, hashing every file cold, and producing the tar. */
export async function profileLocal(root: string): Promise<LocalProfile> {
  let t = performance.now();
  const entries = await scanSource(root, await readIgnorePatterns(root, []));
  const scanMs = performance.now() - t;
  t = performance.now();
  await hashEntries(
    root,
    entries.filter((e) => e.type === 'file'),
    noCache,
  );
  const hashMs = performance.now() - t;
  t = performance.now();
  await pipeline(
    packTar(root, entries),
    new Writable({
      write: (_c, _e, cb) => cb(),
    }),
  );
  const packMs = performance.now() - t;
  return { scanMs, hashMs, packMs };
}
