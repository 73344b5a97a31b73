/** The few ustar/pax header fields we write; see POSIX pax(1), "ustar Interchange Format". */
export interface TarHeader {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'pax';
  mode: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
}

const BLOCK = 512;
const TYPEFLAG = { file: '0', symlink: '2', dir: '5', pax: 'x' } as const;
/** Largest size an 11-digit octal field holds; anything larger goes in a pax record. */
const MAX_OCTAL_SIZE = 0o77777777777;

const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'ascii');
}

/**
 * A pax extended header for what ustar cannot hold: names and link targets longer than 100
 * bytes, sizes of 8 GiB and more. GNU tar and bsdtar read it; it precedes the entry it describes.
 */
export function paxHeader(h: TarHeader): Buffer | undefined {
  const records: string[] = [];
  if (Buffer.byteLength(h.name) > 100) records.push(record('path', h.name));
  if (h.linkname !== undefined && Buffer.byteLength(h.linkname) > 100)
    records.push(record('linkpath', h.linkname));
  if (h.size > MAX_OCTAL_SIZE) records.push(record('size', String(h.size)));
  if (records.length === 0) return undefined;
  const body = Buffer.from(records.join(''));
  return Buffer.concat([
    ustarHeader({ name: 'PaxHeader', type: 'pax', mode: 0o644, size: body.length, mtime: h.mtime }),
    body,
    padding(body.length),
  ]);
}

/** "<length> <key>=<value>\n" where length counts the whole record, its own digits included. */
function record(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restBytes = Buffer.byteLength(rest);
  let len = restBytes + 1;
  while (String(len).length + restBytes !== len) len = String(len).length + restBytes;
  return `${len}${rest}`;
}

/**
 * One 512-byte ustar header; fields too long for it are truncated here and carried by paxHeader.
 * Written into `into` when given (every byte of it), so the packer can reuse one buffer.
 */
export function ustarHeader(h: TarHeader, into?: Buffer): Buffer {
  const buf = into ? into.fill(0, 0, BLOCK) : Buffer.alloc(BLOCK);
  writeTruncated(buf, 0, 100, h.name);
  octal(buf, 100, 8, h.mode & 0o7777);
  octal(buf, 108, 8, 0);
  octal(buf, 116, 8, 0);
  octal(buf, 124, 12, h.size > MAX_OCTAL_SIZE ? 0 : h.size);
  octal(buf, 136, 12, Math.max(0, h.mtime));
  buf.write('        ', 148, 8, 'ascii');
  buf.write(TYPEFLAG[h.type], 156, 1, 'ascii');
  if (h.linkname) writeTruncated(buf, 157, 100, h.linkname);
  buf.write('ustar\u000000', 257, 8, 'ascii');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += buf[i]!;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return buf;
}

/** Writes at most `width` bytes of UTF-8 without splitting a character. */
function writeTruncated(buf: Buffer, offset: number, width: number, text: string): void {
  let bytes = Buffer.from(text);
  if (bytes.length > width) {
    let cut = width;
    while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
    bytes = bytes.subarray(0, cut);
  }
  bytes.copy(buf, offset);
}
