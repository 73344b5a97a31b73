import { liveRelease } from '../layout/remote-state.js';
import { releasesToRemove } from '../layout/retention.js';
import { uploadSettings, usesSpare } from '../source/upload-plan.js';
import type { ReleaseContext } from './types.js';

/** The releases this deploy's cleanup removes, oldest first, as the probe found the host. */
export function plannedRemovals(ctx: ReleaseContext): string[] {
  const history = new Map(ctx.remote.history);
  history.set(ctx.release, {
    ...(history.get(ctx.release) ?? ({} as never)),
    name: ctx.release,
    status: 'success',
  });
  const releases = [...new Set([...ctx.remote.releases, ctx.release])];
  const current = liveRelease(ctx.remote);
  return releasesToRemove({
    releases,
    history,
    keep: ctx.config.keep_releases,
    // The previous `current` stays: it is the rollback target. Unless keep_releases is 1, which
    // asks for the live release alone, as in Deployer and Capistrano.
    protect: [ctx.release, ...(current && ctx.config.keep_releases > 1 ? [current] : [])],
  });
}

/** The newest release removed becomes the spare the next incremental deploy renames into place. */
export const plannedSpare = (ctx: ReleaseContext, removals = plannedRemovals(ctx)): string | undefined =>
  usesSpare(uploadSettings(ctx).mode) ? removals.at(-1) : undefined;
