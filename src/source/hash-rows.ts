import path from 'node:path';
import type { SourceEntry } from './scan.js';

const FORMAT = 'shipshape-hash-cache/2';
const STAT_FIELDS = 4;
const SHA_BYTES = 32;
const ROWS_PER_PIECE = 500;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The cache's rows in typed arrays: stat numbers and binary hashes, one slot per path. As a
 * JSON object of [size, mtime, ctime, ino, hex] arrays it cost about 280 bytes a file, 11 MB
 * at 40,000 files, held for the whole deploy.
 *
 * On disk, after a JSON head line: `hex<TAB>size<TAB>mtimeMs<TAB>ctimeMs<TAB>ino<TAB>path`
 * per line; the path goes last, so tabs in it are harmless, and a path with a newline is
 * simply not cached.
 */
export class HashRows {
  private readonly slots = new Map<string, number>();
  private stats = new Float64Array(0);
  private shas = Buffer.alloc(0);

  get(e: SourceEntry): string | undefined {
    const i = this.slots.get(e.path);
    if (i === undefined) return undefined;
    const s = this.stats;
    const at = i * STAT_FIELDS;
    if (s[at] !== e.size || s[at + 1] !== e.mtimeMs || s[at + 2] !== e.ctimeMs || s[at + 3] !== e.ino)
      return undefined;
    return this.shas.toString('hex', i * SHA_BYTES, (i + 1) * SHA_BYTES);
  }

  set(e: SourceEntry, sha256: string): boolean {
    return this.put(e.path, e.size, e.mtimeMs, e.ctimeMs ?? NaN, e.ino ?? NaN, sha256);
  }

  private put(p: string, size: number, mtimeMs: number, ctimeMs: number, ino: number, hex: string): boolean {
    if (!SHA256_HEX.test(hex)) return false;
    const i = this.slot(p);
    this.shas.write(hex, i * SHA_BYTES, SHA_BYTES, 'hex');
    this.setStats(i, size, mtimeMs, ctimeMs, ino);
    return true;
  }

  private slot(p: string): number {
    let i = this.slots.get(p);
    if (i === undefined) {
      i = this.slots.size;
      this.reserve(i + 1);
      this.slots.set(p, i);
    }
    return i;
  }

  private setStats(i: number, size: number, mtimeMs: number, ctimeMs: number, ino: number): void {
    const at = i * STAT_FIELDS;
    this.stats[at] = size;
    this.stats[at + 1] = mtimeMs;
    this.stats[at + 2] = ctimeMs;
    this.stats[at + 3] = ino;
  }

  private reserve(n: number): void {
    if (n * SHA_BYTES <= this.shas.length) return;
    const cap = Math.max(1024, n * 2);
    const stats = new Float64Array(cap * STAT_FIELDS);
    stats.set(this.stats);
    const shas = Buffer.alloc(cap * SHA_BYTES);
    this.shas.copy(shas);
    this.stats = stats;
    this.shas = shas;
  }

  /**
   * Undefined when the file is of another format or damaged: hashing again is the cure. Read from
   * the bytes, the hash straight into its slot: a deploy reads every row before it can plan.
   */
  static parse(buf: Buffer): HashRows | undefined {
    let eol = buf.indexOf(10);
    if (eol < 0) return undefined;
    const head = JSON.parse(buf.toString('utf8', 0, eol)) as { format?: string };
    if (head.format !== FORMAT) return undefined;
    const rows = new HashRows();
    const num = (from: number, to: number) => Number(buf.toString('latin1', from, to));
    for (let start = eol + 1; start < buf.length; start = eol + 1) {
      eol = buf.indexOf(10, start);
      if (eol < 0) return undefined;
      // hex TAB size TAB mtimeMs TAB ctimeMs TAB ino TAB path
      const t0 = start + SHA_BYTES * 2;
      if (t0 >= eol || buf[t0] !== 9) return undefined;
      const t1 = buf.indexOf(9, t0 + 1);
      const t2 = t1 < 0 ? -1 : buf.indexOf(9, t1 + 1);
      const t3 = t2 < 0 ? -1 : buf.indexOf(9, t2 + 1);
      const t4 = t3 < 0 ? -1 : buf.indexOf(9, t3 + 1);
      if (t4 < 0 || t4 > eol) return undefined;
      const size = num(t0 + 1, t1);
      const mtimeMs = num(t1 + 1, t2);
      const ctimeMs = num(t2 + 1, t3);
      const ino = num(t3 + 1, t4);
      if (!(
        Number.isFinite(size) &&
        Number.isFinite(mtimeMs) &&
        Number.isFinite(ctimeMs) &&
        Number.isFinite(ino)
      ))
        return undefined;
      const i = rows.slot(buf.toString('utf8', t4 + 1, eol));
      if (!hexInto(rows.shas, i * SHA_BYTES, buf, start)) return undefined;
      rows.setStats(i, size, mtimeMs, ctimeMs, ino);
    }
    return rows;
  }

  /** The file's text in pieces, so a 40,000-file source is never one big string. */
  *lines(root: string): Generator<string> {
    yield `${JSON.stringify({ format: FORMAT, root: path.resolve(root) })}\n`;
    let piece = '';
    let n = 0;
    for (const [p, i] of this.slots) {
      if (p.includes('\n')) continue;
      const s = this.stats.subarray(i * STAT_FIELDS, (i + 1) * STAT_FIELDS);
      const hex = this.shas.toString('hex', i * SHA_BYTES, (i + 1) * SHA_BYTES);
      piece += `${hex}\t${s[0]}\t${s[1]}\t${s[2]}\t${s[3]}\t${p}\n`;
      if (++n % ROWS_PER_PIECE === 0) {
        yield piece;
        piece = '';
      }
    }
    if (piece) yield piece;
  }
}

/** Lowercase hex digit's value, or -1. */
const nibble = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1);

/** The 64 lowercase hex digits at `from` as 32 bytes at `at`; false when one is not such a digit. */
function hexInto(out: Buffer, at: number, src: Buffer, from: number): boolean {
  for (let k = 0; k < SHA_BYTES; k++) {
    const hi = nibble(src[from + 2 * k]!);
    const lo = nibble(src[from + 2 * k + 1]!);
    if (hi < 0 || lo < 0) return false;
    out[at + k] = (hi << 4) | lo;
  }
  return true;
}
