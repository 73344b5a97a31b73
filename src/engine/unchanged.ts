import { createHash } from 'node:crypto';
import type { AppPersistence } from '../persistence/app-persistence.js';
import { sourceKey } from '../source/source-key.js';
import type { ReleaseContext, SourceInfo } from '../stages/types.js';

/** How a host was found to run what the deploy would give it. */
export type SameBy = 'record' | 'comparison';

/**
 * The live release's record vouches for it (layout/finished.ts): a run that compared it with this
 * very source (source/source-key.ts) found them alike, and the probe lists the release now exactly
 * as that run saw it. Shared paths must be settled too: a deploy would seed or place something
 * otherwise.
 */
export function sameByRecord(
  ctx: Pick<ReleaseContext, 'remote' | 'sourceKey'>,
  live: string | undefined,
): boolean {
  const { finished, previous, sharedUnseeded, publicUnsettled } = ctx.remote;
  return (
    live !== undefined &&
    finished?.release === live &&
    previous?.release === live &&
    finished.listing !== undefined &&
    finished.listing === previous.tree?.digest &&
    ctx.sourceKey !== undefined &&
    finished.source === ctx.sourceKey &&
    sharedUnseeded.size === 0 &&
    publicUnsettled.size === 0
  );
}

/** The source is what the live release was given: by its record, or by the upload plan's comparison. */
function sameSource(ctx: ReleaseContext, live: string): SameBy | undefined {
  if (sameByRecord(ctx, live)) return 'record';
  const plan = ctx.upload;
  return plan?.base === live && plan.sameAsBase ? 'comparison' : undefined;
}

/**
 * What makes this deploy differ from the release `current` points at, for `skip_unchanged`;
 * undefined when nothing does: the source is as that release was given it (sameSource), nothing
 * changed in it on the server since it went live (the changes stage), its deploy finished
 * (layout/finished.ts) with the same deploy.yml and shipshape, and it holds the same artifact.
 */
export function changeOf(
  ctx: ReleaseContext,
  live: string | undefined,
  liveChanged: boolean,
): { change: string } | { same: SameBy } {
  if (!live) return { change: 'no release is live' };
  const same = sameSource(ctx, live);
  if (!same) return { change: `the source differs from release ${live}` };
  if (liveChanged) return { change: `release ${live} was changed on the server since it went live` };
  const [missing] = ctx.remote.sharedMissing;
  if (missing !== undefined) return { change: `${missing} is missing on the server` };
  const [unlinked] = ctx.remote.sharedUnlinked;
  if (unlinked !== undefined) return { change: `current/${unlinked} is no longer a link into shared/` };
  const finished = ctx.remote.finished;
  const entry = ctx.remote.history.get(live);
  if (finished?.release !== live || entry?.status !== 'success')
    return { change: `the deploy of release ${live} is not recorded as finished` };
  if (finished.shape !== ctx.shape)
    return { change: `release ${live} was made with another deploy.yml or shipshape version` };
  if (entry.artifact !== ctx.source.artifact?.id) return { change: `release ${live} holds another artifact` };
  return { same };
}

/** How the run says it found a host unchanged. */
export const sameByText = (by: SameBy): string =>
  by === 'record' ? 'as recorded when last compared' : 'compared with its upload manifest';

/**
 * What skip_unchanged records (layout/finished.ts): the source's key (source/source-key.ts) and
 * what the recipe made of it (shared, writable and public paths, hooks), which a file the scan
 * leaves out may change.
 */
export function recordKey(
  source: SourceInfo,
  persistence: AppPersistence,
  now = Date.now(),
): string | undefined {
  const key = sourceKey(source, now);
  if (key === undefined) return undefined;
  const { warnings: _warnings, ...made } = persistence;
  return createHash('sha256').update(key).update(JSON.stringify(made)).digest('hex').slice(0, 32);
}
