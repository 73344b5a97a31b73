import type { HashCache } from './hash-cache.js';
import type { SourceEntry } from './scan.js';
import { contentFrom, type ContentFrom } from './content.js';

/** sha256 of each given file, from the cache where it knows the file (unchanged stat, or the same blob). */
export async function hashEntries(
  source: ContentFrom,
  entries: readonly SourceEntry[],
  cache: HashCache,
): Promise<Map<string, string>> {
  const content = contentFrom(source);
  const out = new Map<string, string>();
  const todo: SourceEntry[] = [];
  for (const e of entries) {
    const hit = cache.get(content.cacheKey(e));
    if (hit) out.set(e.path, hit);
    else todo.push(e);
  }
  if (todo.length === 0) return out;
  const readAt = Date.now();
  const hashed = await content.hash(todo);
  for (const e of todo) {
    const sha = hashed.get(e.path)!;
    out.set(e.path, sha);
    cache.set(content.cacheKey(e), sha, readAt);
  }
  return out;
}
