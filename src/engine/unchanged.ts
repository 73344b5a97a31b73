import type { ReleaseContext } from '../stages/types.js';

/**
 * What makes this deploy differ from the release `current` points at, for `skip_unchanged`;
 * undefined when nothing does: the upload plan found the source as that release was given it,
 * nothing changed in it on the server since it went live (the changes stage), its deploy finished
 * (layout/finished.ts) with the same deploy.yml and shipshape, and it holds the same artifact.
 */
export function changeOf(
  ctx: ReleaseContext,
  live: string | undefined,
  liveChanged: boolean,
): string | undefined {
  if (!live) return 'no release is live';
  const plan = ctx.upload;
  if (plan?.base !== live || !plan.sameAsBase) return `the source differs from release ${live}`;
  if (liveChanged) return `release ${live} was changed on the server since it went live`;
  const finished = ctx.remote.finished;
  const entry = ctx.remote.history.get(live);
  if (finished?.release !== live || entry?.status !== 'success')
    return `the deploy of release ${live} is not recorded as finished`;
  if (finished.shape !== ctx.shape)
    return `release ${live} was made with another deploy.yml or shipshape version`;
  if (entry.artifact !== ctx.source.artifact?.id) return `release ${live} holds another artifact`;
  return undefined;
}
