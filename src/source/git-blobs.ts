import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Readable } from 'node:stream';
import { DeployError } from '../definitions/errors.js';
import { gitEnv } from './git.js';

/**
 * Blobs from `git cat-file --batch`, in the order they were asked for. The ids are written to
 * git's stdin as the reader goes (a pipe holds a few thousand ahead), so one process serves a
 * whole upload without a round trip per file, and memory holds one piece of one blob at a time.
 */
export class BlobStream {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly out: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  private stderr = '';
  private closed = false;

  constructor(cwd: string, oids: Iterable<string>) {
    this.child = spawn('git', ['cat-file', '--batch'], { cwd, env: gitEnv() });
    this.child.stderr.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-2000)));
    // A reader closed halfway leaves git's stdin with nobody to read it: that error is expected.
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', () => undefined);
    Readable.from(lines(oids)).pipe(this.child.stdin);
    this.out = this.child.stdout[Symbol.asyncIterator]();
  }

  /** The next blob's bytes; `oid` and `size` must be what was asked for next. */
  async *next(oid: string, size: number, path: string): AsyncGenerator<Buffer> {
    const header = await this.line();
    const [gotOid, type, gotSize] = header.split(' ');
    if (gotOid !== oid || type !== 'blob' || Number(gotSize) !== size) {
      throw new DeployError('ESOURCE', {
        path,
        reason: `cannot be read from git's objects (asked for blob ${oid} of ${size} bytes, git answered "${header}")`,
      });
    }
    for (let left = size; left > 0;) {
      if (this.pending.length === 0) await this.more();
      const piece = this.pending.subarray(0, Math.min(left, this.pending.length));
      this.pending = this.pending.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
    // Each blob is followed by a newline.
    if (this.pending.length === 0) await this.more();
    this.pending = this.pending.subarray(1);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.child.stdin.destroy();
    this.child.kill();
  }

  private async line(): Promise<string> {
    let nl: number;
    while ((nl = this.pending.indexOf(10)) < 0) await this.more();
    const text = this.pending.toString('utf8', 0, nl);
    this.pending = this.pending.subarray(nl + 1);
    return text;
  }

  private async more(): Promise<void> {
    const r = await this.out.next();
    if (r.done) {
      throw new DeployError('ESOURCE', {
        path: '(git objects)',
        reason: `git cat-file ended early${this.stderr ? `: ${this.stderr.trim()}` : ''}`,
      });
    }
    const chunk = r.value as Buffer;
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
  }
}

function* lines(oids: Iterable<string>): Generator<string> {
  let batch = '';
  for (const oid of oids) {
    batch += `${oid}\n`;
    if (batch.length > 8192) {
      yield batch;
      batch = '';
    }
  }
  if (batch) yield batch;
}
