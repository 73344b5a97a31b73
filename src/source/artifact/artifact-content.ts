import { createHash } from 'node:crypto';
import { DeployError } from '../../definitions/errors.js';
import type { ContentSource } from '../content.js';
import type { SourceEntry } from '../scan.js';
import type { ObjectCache } from './object-cache.js';
import type { ArtifactStore } from './store.js';

/**
 * An object's bytes from the store, checked on the way: one that no longer hashes to its name
 * (altered or damaged in the store) fails the upload of that host before anything switches,
 * naming the file.
 */
export async function* verifiedObject(store: ArtifactStore, e: SourceEntry): AsyncGenerator<Buffer> {
  const sha = e.oid!;
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await store.getObject(sha)) {
    const c = chunk as Buffer;
    hash.update(c);
    size += c.length;
    if (size > e.size) break;
    yield c;
  }
  if (size !== e.size || hash.digest('hex') !== sha) throw objectMismatch(store, e);
}

export const objectMismatch = (store: ArtifactStore, e: Pick<SourceEntry, 'path' | 'oid'>): DeployError =>
  new DeployError('EOBJECT', { path: e.path, sha256: e.oid ?? '', store: store.label });

/**
 * The files of an artifact: every hash is the manifest's (nothing to read or cache), and the
 * bytes come from the store, checked against that hash as they stream into the upload.
 */
export function artifactContent(store: ArtifactStore, id: string, cache?: ObjectCache): ContentSource {
  return {
    cacheRoot: `${store.label}#${id}`,
    // No inode: the hash cache neither answers nor records anything for an artifact.
    cacheKey: (e) => ({ ...e, ino: undefined }),
    hash: async (files) => new Map(files.map((e) => [e.path, e.oid!])),
    reader: () => ({
      chunks: (e) => (cache ? cache.chunks(e) : verifiedObject(store, e)),
      close: () => undefined,
    }),
  };
}
