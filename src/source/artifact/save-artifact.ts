import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeployError } from '../../definitions/errors.js';
import { hashEntries } from '../hash.js';
import { sharedHashCache } from '../hash-cache.js';
import type { SourceEntry } from '../scan.js';
import { contentOf, type SourceInfo } from '../source-info.js';
import { artifactId, canonicalBytes, contentSize, manifestOf, type ArtifactManifest } from './manifest.js';
import type { ArtifactStore } from './store.js';

export interface SavedArtifact {
  id: string;
  manifest: ArtifactManifest;
  /** The store held it already (same commit, same build output). */
  existed: boolean;
  /** What this build added to the store. */
  uploaded: { objects: number; bytes: number };
  size: ReturnType<typeof contentSize>;
}

/** Files up to this size are read whole and stored several at once; larger ones stream, one at a time. */
const WHOLE_BELOW = 4 << 20;
const IN_FLIGHT = 8;

/**
 * Records the source as an artifact: hashes every file (through the hash cache), writes the
 * objects the store lacks, then the manifest, last, so a listed artifact is always complete.
 */
export async function saveArtifact(store: ArtifactStore, source: SourceInfo): Promise<SavedArtifact> {
  const content = contentOf(source);
  const files = source.entries.filter((e) => e.type === 'file');
  const cache = await sharedHashCache(content.cacheRoot);
  const hashes = await hashEntries(content, files, cache);
  await cache.save();
  const manifest = manifestOf(source.entries, hashes, source.revision);
  const bytes = canonicalBytes(manifest);
  const id = artifactId(bytes);
  const size = contentSize(manifest);
  // Built before: its objects are checked all the same, so building again repairs a store that lost one.
  const existed = (await store.getManifest(id)) !== undefined;

  const firstOf = new Map<string, SourceEntry>();
  for (const e of files) if (!firstOf.has(hashes.get(e.path)!)) firstOf.set(hashes.get(e.path)!, e);
  const held = await store.hasObjects([...firstOf.keys()]);
  const missing = [...firstOf.entries()].filter(([sha]) => !held.has(sha)).map(([, e]) => e);
  const uploaded = { objects: missing.length, bytes: missing.reduce((n, e) => n + e.size, 0) };

  const reader = content.reader(missing);
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  const track = (p: Promise<void>) => {
    const t = p.catch((e: unknown) => void (failure ??= e)).finally(() => pending.delete(t));
    pending.add(t);
  };
  try {
    for (const e of missing) {
      if (failure) break;
      const sha = hashes.get(e.path)!;
      const checked = checkedChunks(reader.chunks(e), e, sha);
      if (e.size >= WHOLE_BELOW) {
        await store.putObject(sha, e.size, () => Readable.from(checked));
        continue;
      }
      const pieces: Buffer[] = [];
      for await (const piece of checked) pieces.push(piece);
      const whole = Buffer.concat(pieces);
      track(store.putObject(sha, e.size, () => Readable.from([whole])));
      while (pending.size >= IN_FLIGHT) await Promise.race(pending);
    }
    await Promise.all(pending);
  } finally {
    reader.close();
  }
  if (failure) throw failure;
  if (!existed) await store.putManifest(id, bytes);
  return { id, manifest, existed, uploaded, size };
}

/** The bytes read now must be the ones hashed for the manifest: a file rewritten in between is refused. */
async function* checkedChunks(
  chunks: AsyncIterable<Buffer>,
  e: SourceEntry,
  sha: string,
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  for await (const c of chunks) {
    hash.update(c);
    yield c;
  }
  if (hash.digest('hex') !== sha) {
    throw new DeployError('ESOURCE', {
      path: e.path,
      reason: 'changed while the artifact was being built (its hash is no longer the one recorded)',
      changed: true,
    });
  }
}
