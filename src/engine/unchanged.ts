import { releaseShape } from '../layout/release-shape.js';
import type { ReleaseContext } from '../stages/types.js';

/**
 * What makes this deploy differ from the release `current` points at, for `skip_unchanged`;
 * undefined when nothing does: the upload plan found the source as that release was given it,
 * and the release log says it went live, with the same deploy.yml, shipshape and artifact.
 */
export function changeOf(ctx: ReleaseContext, live: string | undefined): string | undefined {
  if (!live) return 'no release is live';
  const plan = ctx.upload;
  if (plan?.base !== live || !plan.sameAsBase) return `the source differs from release ${live}`;
  const entry = ctx.remote.history.get(live);
  if (entry?.status !== 'success') return `the release log does not record release ${live} as deployed`;
  if (entry.shape !== releaseShape(ctx.config, ctx.alias, ctx.host))
    return `release ${live} was made with another deploy.yml or shipshape version`;
  if (entry.artifact !== ctx.source.artifact?.id) return `release ${live} holds another artifact`;
  return undefined;
}
