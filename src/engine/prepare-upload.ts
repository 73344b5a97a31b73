import type { ReleaseContext, SourceInfo } from '../stages/types.js';
import { persistenceOf } from '../persistence/app-persistence.js';
import { uploadEntries } from '../persistence/upload-entries.js';
import { publicShared } from '../persistence/public-share.js';
import { contentOf } from '../source/source-info.js';
import { hashEntries } from '../source/hash.js';
import { sharedHashCache, type HashCache } from '../source/hash-cache.js';
import type { SourceEntry } from '../source/scan.js';
import { resolvePrevious, type PreviousRelease } from '../source/previous-release.js';
import { piecesOf, type PieceRecord } from '../source/manifest.js';
import {
  chooseCompression,
  planUpload,
  uploadSettings,
  type UploadChoice,
  type UploadNotice,
  type UploadPlan,
} from '../source/upload-plan.js';

interface SourceHashing {
  cache: Promise<HashCache>;
  /**
   * One hash per file per run, however many hosts ask for it: each path points to the batch
   * hashing it. (A promise per path cost about 200 bytes a file, 9 MB at 40,000 files.)
   */
  pending: Map<string, Promise<Map<string, string>>>;
}

const bySource = new WeakMap<SourceInfo, SourceHashing>();

function hashingFor(source: SourceInfo): SourceHashing {
  let h = bySource.get(source);
  if (!h) {
    h = { cache: sharedHashCache(contentOf(source).cacheRoot), pending: new Map() };
    bySource.set(source, h);
  }
  return h;
}

/** Once every host has its plan: the hashes were for planning, the upload hashes what it sends. */
export function forgetPlanningHashes(source: SourceInfo): void {
  bySource.delete(source);
}

/** Decides, for one host after its probe, how upload builds the release; the notice says what and why. */
export async function prepareUpload(ctx: ReleaseContext): Promise<UploadChoice> {
  const { mode, compression } = uploadSettings(ctx);
  const hashing = hashingFor(ctx.source);
  const cache = await hashing.cache;
  const hash = async (entries: readonly SourceEntry[]) => {
    const todo = entries.filter((e) => !hashing.pending.has(e.path));
    if (todo.length > 0) {
      const batch = hashEntries(contentOf(ctx.source), todo, cache);
      for (const e of todo) hashing.pending.set(e.path, batch);
      // The first host to ask (the only one, usually) gets the batch itself, not a copy of it.
      if (todo.length === entries.length) return batch;
    }
    const done = new Map<Promise<Map<string, string>>, Map<string, string>>();
    const out = new Map<string, string>();
    for (const e of entries) {
      const batch = hashing.pending.get(e.path)!;
      if (!done.has(batch)) done.set(batch, await batch);
      out.set(e.path, done.get(batch)!.get(e.path)!);
    }
    return out;
  };
  const previous = previousOf(ctx);
  const planned = await planUpload({
    entries: uploadEntries(ctx.source.entries, persistenceOf(ctx), ctx.remote.sharedUnseeded),
    mode,
    compression: chooseCompression(compression, ctx.alias, ctx.host),
    previous,
    hash,
    shared: publicShared(persistenceOf(ctx), ctx.remote.publicUnsettled),
    revision: ctx.source.revision,
    skipUnchanged: ctx.config.skip_unchanged,
  });
  const memory = ctx.memory;
  const held = piecesHeld(ctx, previous?.manifest);
  const run = ({ plan, notice }: { plan: UploadPlan; notice: UploadNotice }) => ({
    plan: {
      ...plan,
      cache,
      remember: memory && ((gz: Buffer, pieces?: readonly PieceRecord[]) => memory.keepManifest(gz, pieces)),
      heldPieces: held,
    },
    notice,
  });
  const { complete } = planned;
  return { ...run(planned), ...(complete ? { complete: () => run(complete()) } : {}) };
}

/** The live release's manifest pieces, when this machine wrote that manifest (the server keeps them with it). */
function piecesHeld(ctx: ReleaseContext, manifest: Buffer | undefined): UploadPlan['heldPieces'] {
  const digest = ctx.remote.previous?.manifestDigest;
  const sizes = digest && manifest ? ctx.memory?.held().pieces?.(digest) : undefined;
  return sizes && manifest && piecesOf(manifest, sizes);
}

/**
 * The previous release from the probe's answer and what this machine holds; what it received is
 * kept for the next deploy (the listing it now shares with the server as their reference).
 */
function previousOf(ctx: ReleaseContext): PreviousRelease | undefined {
  const raw = ctx.remote.previous;
  const memory = ctx.memory;
  const previous = resolvePrevious(raw, memory?.held() ?? { manifest: () => undefined });
  if (memory && previous) {
    if (previous.tree && raw?.tree) memory.keepListing(raw.tree.digest, previous.tree);
    if (raw?.manifest && previous.manifest) memory.keepManifest(previous.manifest);
  }
  return previous;
}
