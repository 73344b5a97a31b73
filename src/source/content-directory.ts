import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeployError } from '../definitions/errors.js';
import type { ContentSource } from './content.js';
import { eachLimited } from './pool.js';
import type { SourceEntry } from './scan.js';
import type { ChunkWriter } from './tar-chunks.js';

/** Small files are read whole (one syscall); larger ones stream, so memory stays flat. */
const READ_WHOLE_BELOW = 1 << 20;
/** Enough reads in flight to keep the disk and libuv's four threads busy. */
const CONCURRENCY = 16;

async function hashFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  if (size < READ_WHOLE_BELOW) return hash.update(await fs.readFile(file)).digest('hex');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 18 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The files of a directory on this machine, as the scan found them. */
export function directoryContent(root: string): ContentSource {
  return {
    cacheRoot: root,
    cacheKey: (e) => e,
    hash: async (files) => {
      const out = new Map<string, string>();
      const results = await eachLimited(files, CONCURRENCY, async (e) => {
        out.set(e.path, await hashFile(path.join(root, e.path), e.size));
      });
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return out;
    },
    reader: () => ({
      readInto: (out, e, hash) => readInto(out, root, e, hash),
      chunks: (e) => streamFile(root, e),
      close: () => undefined,
    }),
  };
}

/** One byte past the expected end tells a file that grew since the scan. */
const pastEnd = Buffer.alloc(1);

/**
 * Synchronous on purpose: a fresh checkout is in the page cache, and the promise version's
 * open/stat/read/close round trips through the thread pool cost twice as long.
 */
function readInto(out: ChunkWriter, source: string, e: SourceEntry, hash: Hash): void {
  let fd: number | undefined;
  try {
    fd = openSync(path.join(source, e.path), 'r');
    let pos = 0;
    while (pos < e.size) {
      const want = Math.min(out.room(), e.size - pos);
      const at = out.offset;
      const n = readSync(fd, out.target, at, want, pos);
      if (n === 0) throw changedWhileReading(e);
      hash.update(out.target.subarray(at, at + n));
      out.advance(n);
      pos += n;
    }
    if (readSync(fd, pastEnd, 0, 1, pos) !== 0) throw changedWhileReading(e);
  } catch (err) {
    throw err instanceof DeployError ? err : unreadable(e, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function* streamFile(source: string, e: SourceEntry): AsyncGenerator<Buffer> {
  let n = 0;
  try {
    for await (const chunk of createReadStream(path.join(source, e.path), { highWaterMark: 1 << 18 })) {
      const c = chunk as Buffer;
      n += c.length;
      if (n > e.size) throw changedWhileReading(e);
      yield c;
    }
  } catch (err) {
    throw err instanceof DeployError ? err : unreadable(e, err);
  }
  if (n !== e.size) throw changedWhileReading(e);
}

function changedWhileReading(e: SourceEntry): DeployError {
  return new DeployError('ESOURCE', {
    path: e.path,
    reason: `changed while it was being uploaded (size is no longer ${e.size})`,
    changed: true,
  });
}

function unreadable(e: SourceEntry, err: unknown): DeployError {
  const code = (err as NodeJS.ErrnoException).code;
  return new DeployError('ESOURCE', {
    path: e.path,
    reason: `cannot be read for the upload (${code ?? (err as Error).message})`,
    changed: code === 'ENOENT',
  });
}
