import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SourceEntry } from '../scan.js';
import { objectMismatch } from './artifact-content.js';
import type { ArtifactStore } from './store.js';

/**
 * A remote store's objects, downloaded once per deploy into a temporary directory on this
 * machine: pushing to twenty hosts reads each object from the store once, not twenty times (the
 * store is an HTTP round trip per object). Each object is checked against its sha256 before it is
 * kept. The directory goes when the deploy ends (`remove`).
 */
export interface ObjectCache {
  /** The object's bytes from the cache, downloading (and checking) it first when needed. */
  chunks(e: SourceEntry): AsyncGenerator<Buffer>;
  remove(): Promise<void>;
}

export function objectCache(store: ArtifactStore): ObjectCache {
  let dir: Promise<string> | undefined;
  const inFlight = new Map<string, Promise<string>>();
  const dirOf = () => (dir ??= fs.mkdtemp(path.join(os.tmpdir(), 'shipshape-objects-')));

  const fetchOnce = (e: SourceEntry): Promise<string> => {
    const sha = e.oid!;
    let p = inFlight.get(sha);
    if (!p) {
      p = (async () => {
        const file = path.join(await dirOf(), sha);
        const tmp = `${file}.part`;
        const hash = createHash('sha256');
        let size = 0;
        await pipeline(
          await store.getObject(sha),
          async function* (source: AsyncIterable<Buffer>) {
            for await (const c of source) {
              hash.update(c);
              size += c.length;
              yield c;
            }
          },
          createWriteStream(tmp, { mode: 0o600 }),
        );
        if (size !== e.size || hash.digest('hex') !== sha) {
          await fs.rm(tmp, { force: true });
          throw objectMismatch(store, e);
        }
        await fs.rename(tmp, file);
        return file;
      })();
      // A failed download is not remembered: the next host asking tries (and fails) on its own.
      p.catch(() => inFlight.delete(sha));
      inFlight.set(sha, p);
    }
    return p;
  };

  return {
    async *chunks(e) {
      const file = await fetchOnce(e);
      yield* Readable.from(createReadStream(file, { highWaterMark: 1 << 18 })) as AsyncIterable<Buffer>;
    },
    remove: async () => {
      if (dir) await fs.rm(await dir, { recursive: true, force: true });
    },
  };
}
