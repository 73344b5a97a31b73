/** Size of the pieces the archive is cut into; the socket and zlib take 64 KiB at a time too. */
export const CHUNK_SIZE = 1 << 16;

/**
 * Builds the archive in 64 KiB buffers that headers, padding and small files are written into
 * directly, instead of one buffer per header and per file. Fewer, larger buffers mean less
 * work for the garbage collector per byte sent, so a piece already sent dies young, in a
 * scavenge, instead of waiting in old space for a full collection: that wait, 20,000 small
 * buffers at a time, was most of a first deploy's peak memory.
 *
 * A finished piece is never written again: each `flush` starts a fresh buffer, because the
 * consumer may still hold the last one.
 */
export class ChunkWriter {
  private buf = Buffer.allocUnsafe(CHUNK_SIZE);
  private off = 0;
  private readonly done: Buffer[] = [];

  /** The buffer to write the next bytes into, at `offset`, at most `room()` of them. */
  get target(): Buffer {
    return this.buf;
  }

  get offset(): number {
    return this.off;
  }

  /** Free bytes in the current piece; never 0, a full piece is set aside first. */
  room(): number {
    if (this.off === CHUNK_SIZE) this.flush();
    return CHUNK_SIZE - this.off;
  }

  /** Counts `n` bytes just written at `offset`. */
  advance(n: number): void {
    this.off += n;
  }

  write(bytes: Buffer): void {
    for (let at = 0; at < bytes.length;) {
      const n = Math.min(this.room(), bytes.length - at);
      bytes.copy(this.buf, this.off, at, at + n);
      this.off += n;
      at += n;
    }
  }

  zeros(count: number): void {
    for (let left = count; left > 0;) {
      const n = Math.min(this.room(), left);
      this.buf.fill(0, this.off, this.off + n);
      this.off += n;
      left -= n;
    }
  }

  /** Sets the current piece aside, even if not full (before a large file's own buffers, and at the end). */
  flush(): void {
    if (this.off === 0) return;
    this.done.push(this.buf.subarray(0, this.off));
    this.buf = Buffer.allocUnsafe(CHUNK_SIZE);
    this.off = 0;
  }

  /** The next finished piece, in order, each handed out once; undefined when there is none. */
  take(): Buffer | undefined {
    return this.done.shift();
  }
}
