import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable, type Readable } from 'node:stream';
import tar from 'tar-stream';
import type { SourceEntry } from './scan.js';

export interface ExtraFile {
  path: string;
  content: string | Buffer;
  mode?: number;
  mtime?: Date;
}

export interface PackProgress {
  files: number;
  bytes: number;
}

/**
 * Streams a tar of the given entries without holding file contents in memory; file
 * hashes are computed on the way through and reported to `onHash`. `extra` files go last;
 * given as a function, they are asked for after every entry has streamed (and been hashed).
 */
export function packTar(
  source: string,
  entries: readonly SourceEntry[],
  extra: readonly ExtraFile[] | (() => Promise<readonly ExtraFile[]>) = [],
  hooks: { onHash?: (p: string, sha256: string) => void; onProgress?: (p: PackProgress) => void } = {},
): Readable {
  const pack = tar.pack();
  const progress: PackProgress = { files: 0, bytes: 0 };
  void (async () => {
    try {
      for (const e of entries) {
        const header = {
          name: e.path,
          mode: e.mode,
          mtime: new Date(e.mtimeMs),
          uid: 0,
          gid: 0,
          uname: '',
          gname: '',
        };
        if (e.type === 'dir') {
          await addEntry(pack, { ...header, type: 'directory' });
        } else if (e.type === 'symlink') {
          await addEntry(pack, { ...header, type: 'symlink', linkname: e.linkTarget ?? '' });
        } else {
          const hash = createHash('sha256');
          const sink = pack.entry({ ...header, type: 'file', size: e.size });
          const file = createReadStream(path.join(source, e.path));
          file.on('data', (c) => hash.update(c as Buffer));
          await pipeline(file, sink as unknown as Writable);
          hooks.onHash?.(e.path, hash.digest('hex'));
        }
        progress.files++;
        progress.bytes += e.size;
        hooks.onProgress?.(progress);
      }
      for (const f of typeof extra === 'function' ? await extra() : extra) {
        await addEntry(
          pack,
          {
            name: f.path,
            mode: f.mode ?? 0o644,
            mtime: f.mtime ?? new Date(),
            type: 'file',
            uid: 0,
            gid: 0,
          },
          typeof f.content === 'string' ? Buffer.from(f.content) : f.content,
        );
      }
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return pack as unknown as Readable;
}

function addEntry(
  pack: tar.Pack,
  header: Partial<tar.Header> & { name: string },
  body?: Buffer,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body) pack.entry(header as tar.Header, body, done);
    else pack.entry(header as tar.Header, done);
  });
}
