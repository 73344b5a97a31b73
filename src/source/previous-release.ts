import { gunzipSync } from 'node:zlib';

/** What the probe read about the release `current` points to, still encoded. */
export interface PreviousReleaseRaw {
  release?: string;
  /** base64 of the gzipped upload manifest, when the server has one. */
  manifest?: string;
  /** base64 of the gzipped listing of the release as it is on disk now. */
  tree?: string;
  /** The same listing of the spare: a pruned release kept to be renamed into the next one. */
  spare?: string;
  /** The deploy user's uid on the host. */
  uid?: string;
}

export const PREVIOUS_KINDS = [
  'prev-release',
  'prev-uid',
  'prev-manifest',
  'prev-tree',
  'spare-tree',
] as const;

/** Fields per entry: type, mode, size, mtime, device:inode, owner's uid, path, link target. */
export const FIELDS = 8;

/** The record the probe prints after a complete listing (layout/live-listing.ts). */
export const TREE_END = 'end';

/** Collects the probe's `prev-*` lines; anything else is not ours. */
export function readPreviousLine(
  into: PreviousReleaseRaw | undefined,
  kind: string,
  value: string,
): PreviousReleaseRaw | undefined {
  if (!(PREVIOUS_KINDS as readonly string[]).includes(kind)) return into;
  const out = { ...into };
  if (kind === 'prev-release') out.release = value;
  else if (kind === 'prev-manifest') out.manifest = value;
  else if (kind === 'spare-tree') out.spare = value;
  else if (kind === 'prev-uid') out.uid = value;
  else out.tree = value;
  return out;
}

export type RemoteType = 'file' | 'dir' | 'symlink' | 'other';

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

const TYPE_OF: Record<string, RemoteType> = { f: 'file', d: 'dir', l: 'symlink' };
const NUL = 0;
const END = Buffer.from(`${TREE_END}\0`);

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

/**
 * Decodes the probe's listing; undefined when it is absent, truncated or garbled. Read field by
 * field from the gunzipped bytes: at 40,000 files the listing is 4 MB of text, and splitting it
 * into 280,000 strings (each a slice that kept the whole text alive) was most of a deploy's
 * planning memory.
 */
export function decodeTree(b64: string | undefined): Map<string, RemoteEntry> | undefined {
  if (!b64) return undefined;
  let buf: Buffer;
  try {
    buf = gunzipSync(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
  // A complete listing ends with the end record, written only when `find` succeeded.
  const body = buf.length - END.length;
  if (body < 0 || !buf.subarray(body).equals(END)) return undefined;
  const tree = new Map<string, RemoteEntry>();
  const at: number[] = new Array<number>(FIELDS + 1);
  let pos = 0;
  while (pos < body) {
    at[0] = pos;
    for (let f = 1; f <= FIELDS; f++) {
      const nul = buf.indexOf(NUL, at[f - 1]!);
      if (nul < 0 || nul >= body) return undefined;
      at[f] = nul + 1;
    }
    const field = (f: number): [number, number] => [at[f]!, at[f + 1]! - 1];
    const [y] = field(0);
    const type = TYPE_OF[String.fromCharCode(buf[y]!)] ?? 'other';
    const entry: RemoteEntry = {
      type,
      mode: integer(buf, ...field(1), 8),
      size: integer(buf, ...field(2), 10),
      mtime: integer(buf, ...field(3), 10),
      id: buf.toString('latin1', ...field(4)),
      uid: integer(buf, ...field(5), 10),
    };
    if (type === 'symlink') entry.link = buf.toString('utf8', ...field(7));
    tree.set(buf.toString('utf8', ...field(6)), entry);
    pos = at[FIELDS]!;
  }
  return tree;
}
