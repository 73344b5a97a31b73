import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
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

/** A gzip member of a manifest written in pieces, named by (half) the sha256 of its text. */
export interface ManifestPiece {
  name: string;
  gz: Buffer;
}

/** What a machine remembers of a piece: its name and its size in the manifest, in the manifest's order. */
export interface PieceRecord {
  name: string;
  size: number;
}

/** Entries per piece on average, and at most. */
const PIECE_MEAN = 64;
const PIECE_MAX = 1024;

/**
 * The manifest as `encodeManifestFrom` writes it (the same JSON), but as one gzip member per
 * piece: its head, runs of about 64 entries, its tail. Concatenated, the pieces are the manifest
 * the server stores (gzip reads members one after the other). A piece ends after an entry whose
 * path hashes to a multiple of 64, so an entry that changes, comes or goes changes only its own
 * piece: a steady-state deploy sends the pieces of what changed, and the server puts the rest
 * together from the ones it holds (stages/upload.ts). Sending the whole manifest made the upload
 * grow with the tree: 2.1 MB for a 10-file change of a 40,000-file app. A piece in `held` (the
 * previous manifest's, by name) is not compressed again.
 */
export async function encodeManifestPieces(
  head: Omit<Manifest, 'entries'>,
  entries: Iterable<ManifestEntry>,
  level = 6,
  held?: ReadonlyMap<string, Buffer>,
): Promise<{ whole: Buffer; pieces: ManifestPiece[] }> {
  const pieces: ManifestPiece[] = [];
  const add = (text: string) => {
    const name = createHash('sha256').update(text).digest('hex').slice(0, 32);
    pieces.push({ name, gz: held?.get(name) ?? gzipSync(text, { level }) });
  };
  add(`${JSON.stringify(head).slice(0, -1)},"entries":[`);
  let piece: string[] = [];
  let first = true;
  const flush = () => {
    add((first ? '' : ',') + piece.join(','));
    first = false;
    piece = [];
  };
  for (const e of entries) {
    piece.push(JSON.stringify(e));
    if (pathHash(e.path) % PIECE_MEAN === 0 || piece.length === PIECE_MAX) {
      flush();
      // The event loop gets a turn every 16 pieces: the archive before the manifest goes out
      // meanwhile, and the server gets on with it (40 ms in one go held it back as long).
      if (pieces.length % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }
  if (piece.length > 0) flush();
  add(']}');
  return { whole: Buffer.concat(pieces.map((p) => p.gz)), pieces };
}

/** The pieces of a manifest written by `encodeManifestPieces`, from their names and sizes. */
export function piecesOf(whole: Buffer, sizes: readonly PieceRecord[]): Map<string, Buffer> | undefined {
  const out = new Map<string, Buffer>();
  let at = 0;
  for (const { name, size } of sizes) {
    out.set(name, whole.subarray(at, at + size));
    at += size;
  }
  return at === whole.length ? out : undefined;
}

/** FNV-1a over the path's UTF-16 units: cheap, and the same on every machine. */
function pathHash(p: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p.charCodeAt(i), 0x01000193);
  return h >>> 0;
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
