import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';

/**
 * A release as it is on disk, as the probe lists it (layout/live-listing.ts): one record per
 * entry, each ended by a NUL byte, sorted bytewise (`LC_ALL=C sort -z`), so that the server and
 * this machine hash the same bytes. A record is
 *
 *   type TAB mode TAB size TAB mtime TAB device:inode TAB uid TAB pathLength TAB path linkTarget
 *
 * The path and a symlink's target may hold any byte but NUL, so a symlink's record gives the
 * path's length in bytes to say where it ends; every other record leaves pathLength empty, and
 * its path is the rest of the record. Size, mtime and inode are left empty for anything but a
 * regular file: nothing reads them, and a directory's mtime and inode differ in every release,
 * which would make every directory part of every delta.
 */
export type Listing = Buffer;

/** What the probe sent for one listing: the whole of it, or its difference from a listing we hold. */
export interface ListingWire {
  /** sha256 (hex) of the complete, sorted listing on the server. */
  digest: string;
  /** A delta: the digest of the reference listing it applies to. */
  base?: string;
  /** base64 of gzip: the listing, or delta records (`+record` added, `-record` gone). */
  data: string;
}

export const sha256Hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const NUL = 0;
const PLUS = 0x2b;
const MINUS = 0x2d;

/** The records of a listing or a delta, without their NUL. */
function records(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    const nul = buf.indexOf(NUL, at);
    if (nul < 0) return out;
    out.push(buf.subarray(at, nul));
    at = nul + 1;
  }
  return out;
}

/**
 * The listing the server holds now, rebuilt from the reference listing we hold and the delta it
 * sent; undefined unless the result hashes to the digest the server computed over its own
 * listing. That check is what lets the plan trust a listing it never received whole.
 *
 * The reference is sorted, so the few changed records are merged into it in one pass that copies
 * byte ranges: no object per record of a 10,000-file listing.
 */
export function applyDelta(reference: Listing, wire: ListingWire): Listing | undefined {
  let delta: Buffer;
  try {
    delta = gunzipSync(Buffer.from(wire.data, 'base64'));
  } catch {
    return undefined;
  }
  const added: Buffer[] = [];
  const gone: Buffer[] = [];
  for (const r of records(delta)) {
    if (r[0] === PLUS) added.push(r.subarray(1));
    else if (r[0] === MINUS) gone.push(r.subarray(1));
    else return undefined;
  }
  added.sort(Buffer.compare);
  gone.sort(Buffer.compare);
  const out = Buffer.allocUnsafe(added.reduce((n, r) => n + r.length + 1, reference.length));
  let o = 0;
  const put = (from: Buffer, start = 0, end = from.length) => {
    o += from.copy(out, o, start, end);
    out[o++] = NUL;
  };
  let a = 0;
  let g = 0;
  const dropped: Buffer[] = [];
  for (let at = 0; at < reference.length;) {
    const end = reference.indexOf(NUL, at);
    if (end < 0) return undefined;
    while (a < added.length && added[a]!.compare(reference, at, end) < 0) put(added[a++]!);
    while (g < gone.length && gone[g]!.compare(reference, at, end) < 0) g++;
    if (g < gone.length && gone[g]!.compare(reference, at, end) === 0) {
      g++;
      dropped.push(reference.subarray(at, end));
    } else put(reference, at, end);
    at = end + 1;
  }
  while (a < added.length) put(added[a++]!);
  const listing = out.subarray(0, o);
  if (sha256Hex(listing) !== wire.digest) return undefined;
  builtFrom.set(listing, { reference, dropped, added });
  return listing;
}

/**
 * How a listing was put together by applyDelta: the reference's records it left out, and those it
 * added. Made anew by dropListingAhead, so that what it holds (slices of the reference) does not
 * live on with a listing this machine keeps for the next deploy.
 */
let builtFrom = new WeakMap<Listing, { reference: Listing; dropped: Buffer[]; added: Buffer[] }>();

/** A whole listing as sent; undefined when it does not hash to its digest (cut short, garbled). */
export function wholeListing(wire: ListingWire): Listing | undefined {
  try {
    const out = gunzipSync(Buffer.from(wire.data, 'base64'));
    return sha256Hex(out) === wire.digest ? out : undefined;
  } catch {
    return undefined;
  }
}

type RemoteType = 'file' | 'dir' | 'symlink' | 'other';

export interface RemoteEntry {
  type: RemoteType;
  mode: number;
  size: number;
  mtime: number;
  /** `device:inode`: equal for two names of one file. */
  id: string;
  /** Owner: under fs.protected_hardlinks only the owner may hard-link a file it cannot write. */
  uid: number;
  link?: string;
}

/** By the record's first byte. */
const TYPE_OF: Record<number, RemoteType> = { 0x66: 'file', 0x64: 'dir', 0x6c: 'symlink' };
const TAB = 9;
/** Tab-separated fields before the path: type, mode, size, mtime, id, uid, path length. */
const HEAD_FIELDS = 7;

/** Digits of `radix` up to the first non-digit (a mode in octal, a size, the seconds of an mtime). */
function integer(buf: Buffer, from: number, to: number, radix: 8 | 10): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d >= radix) break;
    n = n * radix + d;
  }
  return n;
}

/** Field starts of one record, reused: field f runs from at[f] to the tab before at[f + 1]. */
const at: number[] = new Array<number>(HEAD_FIELDS + 1);

/** The record in buf[pos, end) as [path, entry]; undefined when it is garbled. */
function decodeRecord(buf: Buffer, pos: number, end: number): [string, RemoteEntry] | undefined {
  const num = (f: number, radix: 8 | 10) => integer(buf, at[f]!, at[f + 1]! - 1, radix);
  at[0] = pos;
  for (let f = 1; f <= HEAD_FIELDS; f++) {
    const tab = buf.indexOf(TAB, at[f - 1]!);
    if (tab < 0 || tab >= end) return undefined;
    at[f] = tab + 1;
  }
  const pathStart = at[HEAD_FIELDS]!;
  // Only a symlink's record gives the path's length: in any other the path is all that is left.
  const pathEnd = at[HEAD_FIELDS]! - 1 === at[HEAD_FIELDS - 1] ? end : pathStart + num(HEAD_FIELDS - 1, 10);
  if (pathEnd > end || pathEnd === pathStart) return undefined;
  const type = TYPE_OF[buf[pos]!] ?? 'other';
  const entry: RemoteEntry = {
    type,
    mode: num(1, 8),
    size: num(2, 10),
    mtime: num(3, 10),
    id: type === 'file' ? buf.toString('latin1', at[4]!, at[5]! - 1) : '',
    uid: num(5, 10),
  };
  if (type === 'symlink') entry.link = buf.toString('utf8', pathEnd, end);
  const name = buf.toString('utf8', pathStart, pathEnd);
  // A name that is not UTF-8 (an app wrote it on the server) would be read as U+FFFD: the plan's
  // removal of it would name no file, and the copy of the release would keep it. Not readable.
  if (name.includes('\uFFFD') && !isUtf8(buf.subarray(pathStart, pathEnd))) return undefined;
  return [name, entry];
}

/**
 * The first path in a listing that is not UTF-8, as its bytes: why decodeListing could not read
 * a listing the server sent whole, so that the fallback says which file it was.
 */
export function nonUtf8Path(buf: Listing | undefined): Buffer | undefined {
  if (!buf) return undefined;
  for (let pos = 0; pos < buf.length;) {
    const end = buf.indexOf(NUL, pos);
    if (end < 0) return undefined;
    let start = pos;
    for (let f = 0; f < HEAD_FIELDS && start <= end; f++) start = buf.indexOf(TAB, start) + 1;
    if (start > 0 && start <= end) {
      const lengthField = buf.subarray(buf.lastIndexOf(TAB, start - 2) + 1, start - 1);
      const stop = lengthField.length ? Math.min(end, start + Number(lengthField.toString('latin1'))) : end;
      if (!isUtf8(buf.subarray(start, stop))) return Buffer.from(buf.subarray(start, stop));
    }
    pos = end + 1;
  }
  return undefined;
}

/** Every record of buf into tree: how many there were, or -1 when one is garbled. */
function decodeInto(buf: Buffer, tree: Map<string, RemoteEntry>): number {
  let records = 0;
  for (let pos = 0; pos < buf.length; records++) {
    const end = buf.indexOf(NUL, pos);
    if (end < 0) return -1;
    const r = decodeRecord(buf, pos, end);
    if (!r) return -1;
    tree.set(r[0], r[1]);
    pos = end + 1;
  }
  return records;
}

/**
 * The entries of a listing by path; undefined when a record is garbled. Read field by field
 * from the bytes: at 40,000 files, splitting the text into strings was most of a deploy's
 * planning memory.
 */
export function decodeListing(buf: Listing | undefined): ReadonlyMap<string, RemoteEntry> | undefined {
  if (!buf) return undefined;
  return fromAhead(buf) ?? decodeNow(buf);
}

function decodeNow(buf: Listing): Map<string, RemoteEntry> | undefined {
  const tree = new Map<string, RemoteEntry>();
  return decodeInto(buf, tree) < 0 ? undefined : tree;
}

/**
 * The listing this machine holds as the probe's reference, decoded while the hosts still answer
 * the probe (engine/deploy-fleet.ts). Both listings the probe sends as a delta against it (the
 * live release's and the spare's) are then the decoded reference with the delta's few records
 * taken out and put in, instead of a decode of every record. One slot, kept until the plans are
 * made (dropListingAhead).
 */
let ahead: { reference: Listing; tree: ReadonlyMap<string, RemoteEntry> } | undefined;

export function decodeListingAhead(reference: Listing): void {
  const tree = new Map<string, RemoteEntry>();
  // One record per path, as find lists a directory: what fromAhead's exchanges rely on.
  ahead = decodeInto(reference, tree) === tree.size ? { reference, tree } : undefined;
}

export function dropListingAhead(): void {
  ahead = undefined;
  builtFrom = new WeakMap();
}

/**
 * What decodeListing would make of a listing applyDelta put together from the reference decoded
 * ahead, or undefined to decode it whole. A record added for a path the reference still has would
 * leave two records for one path, which a decode settles by their order: left to the decode.
 */
function fromAhead(buf: Listing): Map<string, RemoteEntry> | undefined {
  const built = builtFrom.get(buf);
  if (!ahead || !built || built.reference !== ahead.reference) return undefined;
  const tree = new Map(ahead.tree);
  for (const r of built.dropped) {
    const old = decodeRecord(r, 0, r.length);
    if (!old || !tree.delete(old[0])) return undefined;
  }
  for (const r of built.added) {
    const now = decodeRecord(r, 0, r.length);
    if (!now || tree.has(now[0])) return undefined;
    tree.set(now[0], now[1]);
  }
  return tree;
}
