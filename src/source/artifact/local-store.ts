import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  idOfKey,
  manifestKey,
  objectKey,
  shaOfKey,
  type ArtifactStore,
  type StoredArtifact,
} from './store.js';

/** Written aside and renamed: a reader never sees half an object, and a crash leaves none. */
async function writeAtomically(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await write(tmp);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

async function walk(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const dirents = await fs.readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
  for (const d of dirents) {
    const p = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...(await walk(dir, p)));
    else if (d.isFile()) out.push(p);
  }
  return out;
}

/** A directory on this machine (the default, `.shipshape/artifacts`); hosts get its content by push. */
export function localStore(dir: string): ArtifactStore {
  const at = (key: string) => path.join(dir, ...key.split('/'));
  return {
    label: dir,
    remote: false,
    hasObjects: async (shas) => {
      const out = new Set<string>();
      for (const sha of shas) {
        if (
          await fs.stat(at(objectKey(sha))).then(
            (s) => s.isFile(),
            () => false,
          )
        )
          out.add(sha);
      }
      return out;
    },
    putObject: (sha, _size, body) =>
      writeAtomically(at(objectKey(sha)), (tmp) => pipeline(body(), createWriteStream(tmp))),
    getObject: async (sha) => {
      const file = at(objectKey(sha));
      await fs.access(file);
      return createReadStream(file, { highWaterMark: 1 << 18 }) as Readable;
    },
    putManifest: (id, bytes) => writeAtomically(at(manifestKey(id)), (tmp) => fs.writeFile(tmp, bytes)),
    getManifest: async (id) => {
      const file = at(manifestKey(id));
      try {
        const [bytes, st] = await Promise.all([fs.readFile(file), fs.stat(file)]);
        return { bytes, stored: st.mtime };
      } catch {
        return undefined;
      }
    },
    listArtifacts: async () => {
      const out: StoredArtifact[] = [];
      for (const rel of await walk(dir, 'artifacts')) {
        const id = idOfKey(rel);
        if (id) out.push({ id, stored: (await fs.stat(at(rel))).mtime });
      }
      return out;
    },
    listObjects: async () =>
      (await walk(dir, 'objects')).map(shaOfKey).filter((s): s is string => s !== undefined),
    deleteArtifact: (id) => fs.rm(at(manifestKey(id)), { force: true }),
    deleteObjects: async (shas) => {
      for (const sha of shas) await fs.rm(at(objectKey(sha)), { force: true });
    },
  };
}
