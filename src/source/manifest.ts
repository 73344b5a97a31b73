import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import type { EntryType } from './scan.js';
import { isInsidePath } from '../config/paths.js';

/**
 * The upload manifest says what shipshape put into a release: one entry per path with its
 * content hash, computed on the deploying machine while the file streamed by. The next deploy
 * compares the source against it to send only what changed.
 *
 * It lives in `.deploy/upload-manifests/<release>.json.gz` (layout/upload-manifests.ts), not inside the release: a file in
 * the release would be served by any app whose web root is the release itself, the app could
 * rewrite it, and it would have to be kept out of its own listing. It is distinct from the
 * runtime manifest the persistence stage records at switch time (what was linked where).
 */
export const MANIFEST_FORMAT = 'shipshape-upload-manifest/1';

export interface ManifestEntry {
  path: string;
  type: EntryType;
  mode: number;
  /** Bytes; 0 for directories and symlinks. */
  size: number;
  /** Whole seconds, as tar wrote them on the server; tells the next deploy the file was not touched since. */
  mtime: number;
  sha256?: string;
  link?: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  release: string;
  created_at: string;
  entries: ManifestEntry[];
}

export function encodeManifest(m: Manifest): Buffer {
  return gzipSync(JSON.stringify(m), { level: 6 });
}

/** Entries per piece of JSON handed to gzip: big enough that the pieces cost nothing, small enough to stay flat. */
const ENTRIES_PER_PIECE = 500;

/**
 * The same bytes as `encodeManifest` (at its level), built from entries as they are produced. At
 * 40,000 entries the one JSON string, the array of rows behind it and the cache written next to
 * it were the deploy's peak memory (about 35 MB on top of the upload's buffers).
 */
export async function encodeManifestFrom(
  head: Omit<Manifest, 'entries'>,
  entries: Iterable<ManifestEntry>,
  level = 6,
): Promise<Buffer> {
  const out: Buffer[] = [];
  // One piece at a time: Readable.from's default read-ahead of 16 pieces (8,000 rows) kept
  // their strings alive across scavenges, to be promoted and left for a full collection.
  const pieces = Readable.from(manifestPieces(head, entries), { highWaterMark: 1 });
  await pipeline(pieces, createGzip({ level }), async (gz) => {
    for await (const chunk of gz) out.push(chunk as Buffer);
  });
  return Buffer.concat(out);
}

function* manifestPieces(
  head: Omit<Manifest, 'entries'>,
  entries: Iterable<ManifestEntry>,
): Generator<string> {
  // Equal to JSON.stringify of the whole manifest: the head's keys, then entries last.
  yield `${JSON.stringify(head).slice(0, -1)},"entries":[`;
  let piece: string[] = [];
  let first = true;
  for (const e of entries) {
    piece.push(JSON.stringify(e));
    if (piece.length === ENTRIES_PER_PIECE) {
      yield (first ? '' : ',') + piece.join(',');
      first = false;
      piece = [];
    }
  }
  if (piece.length > 0) yield (first ? '' : ',') + piece.join(',');
  yield ']}';
}

/** A manifest read back from a server, or why it cannot be used. */
export type ManifestRead = { ok: true; manifest: Manifest } | { ok: false; reason: string };

const TYPES = new Set<EntryType>(['file', 'dir', 'symlink']);
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * A manifest decoded while the hosts still answer the probe (engine/deploy-fleet.ts): the plan
 * that asks for the same bytes takes it instead of decoding them again. One slot, emptied by the
 * next decode whether it matched or not, so the entries live no longer than they would have.
 */
let ahead: { gz: Buffer; read: ManifestRead } | undefined;

export function decodeManifestAhead(gz: Buffer): ManifestRead {
  ahead = { gz, read: decodeManifestNow(gz) };
  return ahead.read;
}

/** Once every plan is made: a guess no plan took is not kept for the process's life. */
export function dropManifestAhead(): void {
  ahead = undefined;
}

/**
 * Every entry is checked, because the paths in it end up in an `rm -rf` on the server: a
 * manifest someone edited or a disk truncated is refused whole, and the deploy uploads in full.
 */
export function decodeManifest(gz: Buffer): ManifestRead {
  const kept = ahead;
  ahead = undefined;
  return kept?.gz.equals(gz) ? kept.read : decodeManifestNow(gz);
}

function decodeManifestNow(gz: Buffer): ManifestRead {
  let doc: unknown;
  try {
    doc = JSON.parse(gunzipSync(gz).toString('utf8'));
  } catch (e) {
    return { ok: false, reason: `unreadable (${(e as Error).message})` };
  }
  const m = doc as Partial<Manifest>;
  if (!m || m.format !== MANIFEST_FORMAT || !Array.isArray(m.entries)) {
    return { ok: false, reason: 'not a shipshape upload manifest' };
  }
  for (const e of m.entries as Partial<ManifestEntry>[]) {
    const bad =
      !e ||
      typeof e.path !== 'string' ||
      !isInsidePath(e.path) ||
      !TYPES.has(e.type as EntryType) ||
      !Number.isInteger(e.mode) ||
      !Number.isInteger(e.size) ||
      !Number.isInteger(e.mtime) ||
      (e.type === 'file' && !SHA256.test(e.sha256 ?? '')) ||
      (e.type === 'symlink' && typeof e.link !== 'string');
    if (bad) return { ok: false, reason: `invalid entry ${JSON.stringify(e).slice(0, 120)}` };
  }
  return { ok: true, manifest: m as Manifest };
}
