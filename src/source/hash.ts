import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { eachLimited } from './pool.js';
import type { HashCache } from './hash-cache.js';
import type { SourceEntry } from './scan.js';

/** Small files are read whole (one syscall); larger ones stream, so memory stays flat. */
const READ_WHOLE_BELOW = 1 << 20;
/** Enough reads in flight to keep the disk and libuv's four threads busy. */
const CONCURRENCY = 16;

export async function hashFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  if (size < READ_WHOLE_BELOW) return hash.update(await fs.readFile(file)).digest('hex');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 18 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** sha256 of each given file, from the cache where its stat is unchanged. */
export async function hashEntries(
  root: string,
  entries: readonly SourceEntry[],
  cache: HashCache,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const todo: SourceEntry[] = [];
  for (const e of entries) {
    const hit = cache.get(e);
    if (hit) out.set(e.path, hit);
    else todo.push(e);
  }
  const results = await eachLimited(todo, CONCURRENCY, async (e) => {
    const sha = await hashFile(path.join(root, e.path), e.size);
    out.set(e.path, sha);
    cache.set(e, sha);
  });
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return out;
}
