import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { contentFrom, type ContentFrom } from './content.js';
import type { HashCache } from './hash-cache.js';
import { encodeManifestFrom, encodeManifestPieces, MANIFEST_FORMAT, type ManifestEntry } from './manifest.js';
import type { SourceEntry } from './scan.js';
import { keptCheck } from './kept-check.js';
import { CHUNK_SIZE } from './tar-chunks.js';
import { tarChunks, type ExtraFile } from './tar.js';
import { REVISION_FILE, type UploadPlan } from './upload-plan.js';

/** How far a stage's stdin (the upload) has got; totals are what this run sends, not the whole source. */
export interface TransferProgress {
  files: number;
  bytes: number;
  totalFiles: number;
  totalBytes: number;
}

const nulTerminated = (paths: readonly string[]): Buffer =>
  Buffer.from(paths.map((p) => `${p}\0`).join(''), 'utf8');

/** The removal list as it travels: NUL-terminated paths, read on the server by `head -c`. */
export const removalBytes = (plan: Pick<UploadPlan, 'remove'>): Buffer => nulTerminated(plan.remove);

/** The list of files to link again from the previous release; it follows the removal list. */
export const linkBytes = (plan: Pick<UploadPlan, 'link'>): Buffer => nulTerminated(plan.link ?? []);

/** The symlinks a seeded release keeps (the seed check's list); it follows the link list. */
export const symlinkBytes = (paths: readonly string[]): Buffer => nulTerminated(paths);

/**
 * Name of the manifest inside the archive. It is extracted with the release and moved out
 * by the upload script; the run's token keeps it from colliding with any application file.
 */
export const manifestEntryName = (token: string): string => `.shipshape-upload-manifest.${token}.json.gz`;

/**
 * The directory a pushed upload's manifest pieces arrive in, moved out like the manifest; its
 * `list` (the pieces' names in order, the archive's last entry) is written last.
 */
export const manifestPiecesName = (token: string): string => `.shipshape-upload-manifest.${token}.pieces`;

export interface UploadStreamInput {
  /** A directory's path, or where the files' bytes come from (a commit's objects). */
  content: ContentFrom;
  plan: UploadPlan;
  release: string;
  revision?: string;
  token: string;
  cache?: HashCache;
  onProgress?: (p: TransferProgress) => void;
  /**
   * Files the host fetches from the artifact store itself: left out of the archive, recorded in the
   * manifest with the artifact's hash (their `oid`). See fetch-bundle.ts.
   */
  fetched?: ReadonlySet<string>;
  /** The archive alone, without the lists ahead of it (a fetch bundle carries the archive; SSH the lists). */
  archiveOnly?: boolean;
  /** The time the extras (REVISION, the manifest) carry; one per deploy, so every host's bundle is alike. */
  now?: Date;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * stdin of the upload script: the removal list, then the tar (gzipped if asked). The new
 * release's manifest is the archive's last entry, built from the hashes taken while the
 * files streamed, so the archive itself is never held in memory and no file is read twice.
 */
export function uploadStream(input: UploadStreamInput): Readable {
  const { plan, release, revision, token, cache, onProgress, fetched } = input;
  const { entries } = plan;
  const content = contentFrom(input.content);
  const streamed = fetched ? plan.send.filter((e) => !fetched.has(e.path)) : plan.send;
  const totals = { totalFiles: streamed.length, totalBytes: streamed.reduce((n, e) => n + e.size, 0) };
  const hashes = new Map<string, string>();
  const now = input.now ?? new Date();

  const extras = async (): Promise<ExtraFile[]> => {
    const out: ExtraFile[] = [];
    const revisionFile = revision === undefined ? undefined : `${revision}\n`;
    if (revisionFile !== undefined) out.push({ path: REVISION_FILE, content: revisionFile, mtime: now });
    function* rows(): Generator<ManifestEntry> {
      for (const e of entries) {
        yield (
          plan.kept.get(e.path) ??
          plan.placed?.get(e.path) ??
          entryOf(e, fetched?.has(e.path) ? e.oid : hashes.get(e.path))
        );
      }
      if (revisionFile !== undefined) {
        yield {
          path: REVISION_FILE,
          type: 'file',
          mode: 0o644,
          size: Buffer.byteLength(revisionFile),
          mtime: seconds(now.getTime()),
          sha256: createHash('sha256').update(revisionFile).digest('hex'),
        };
      }
    }
    const head = { format: MANIFEST_FORMAT, release, created_at: now.toISOString() } as const;
    // The manifest (for a push, its pieces' list) is the archive's last entry: the server's tar
    // waits for it. Where the upload is not compressed (a local or loopback host, or a fetch
    // bundle), CPU is the cost rather than bytes: on the bench tree's whole manifest, gzip's level
    // 1 takes 13 ms where 6 takes 21, for 4.5 % more.
    const level = plan.compression === 'gzip' ? 6 : 1;
    if (input.archiveOnly) {
      // A fetch bundle is one archive for every host, whatever each one holds: the manifest whole.
      const manifest = await encodeManifestFrom(head, rows(), level);
      plan.remember?.(manifest);
      out.push({ path: manifestEntryName(token), content: manifest, mode: 0o600, mtime: now });
      return out;
    }
    const { whole, pieces } = await encodeManifestPieces(head, rows(), level, plan.heldPieces);
    plan.remember?.(
      whole,
      pieces.map((p) => ({ name: p.name, size: p.gz.length })),
    );
    const dir = manifestPiecesName(token);
    const sent = new Set(plan.heldPieces?.keys());
    for (const p of pieces) {
      if (sent.has(p.name)) continue;
      sent.add(p.name);
      out.push({ path: `${dir}/${p.name}`, content: p.gz, mode: 0o600, mtime: now });
    }
    const list = pieces.map((p) => `${p.name}\n`).join('');
    out.push({ path: `${dir}/list`, content: list, mode: 0o600, mtime: now });
    return out;
  };

  const tar = tarChunks(content, streamed, extras, {
    onHash: (p, sha, e, readAt) => {
      hashes.set(p, sha);
      // Settled by when its read began: a large file streams for seconds.
      cache?.set(content.cacheKey(e), sha, readAt);
    },
    onProgress: onProgress && ((p) => onProgress({ ...p, ...totals })),
  });
  const head = input.archiveOnly ? Buffer.alloc(0) : uploadHead(plan);
  if (plan.compression === 'none') return Readable.from(concat(head, tar), BYTES);
  const packed = Readable.from(tar, BYTES);
  const body = packed.pipe(createGzip({ level: 1 }));
  packed.on('error', (err) => body.destroy(err));
  return Readable.from(concat(head, body), BYTES);
}

/** The lists the upload script reads before the archive: removals, links again, the seeded release's symlinks. */
export function uploadHead(plan: UploadPlan): Buffer {
  const seeded = plan.seed !== 'empty' && plan.base !== undefined;
  return Buffer.concat([
    removalBytes(plan),
    linkBytes(plan),
    ...(seeded ? [symlinkBytes(keptCheck(plan).symlinks)] : []),
  ]);
}

/**
 * Byte streams holding one piece ahead. In object mode, the default, each stream held 16
 * pieces, up to 1 MiB each: megabytes still queued when the young generation was collected,
 * which then waited in old space for a full collection.
 */
const BYTES = { objectMode: false, highWaterMark: CHUNK_SIZE } as const;

async function* concat(head: Buffer, body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  for await (const chunk of body) yield chunk;
}

function entryOf(e: SourceEntry, sha256: string | undefined): ManifestEntry {
  const base = { path: e.path, type: e.type, mode: e.mode, size: e.size, mtime: seconds(e.mtimeMs) };
  if (e.type === 'symlink') return { ...base, link: e.linkTarget ?? '' };
  if (e.type === 'file') return { ...base, sha256 };
  return base;
}
