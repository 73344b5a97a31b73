import { liveRelease } from '../layout/remote-state.js';
import { releasesToRemove } from '../layout/retention.js';
import { planEmptyTrash } from '../layout/trash.js';
import { persistenceOf } from '../persistence/app-persistence.js';
import { defineRemoveRelease, planRemoveRelease, rescueNotes } from '../persistence/rescue.js';
import { uploadSettings, usesSpare } from '../source/upload-plan.js';
import type { ReleaseContext, Stage } from './types.js';

function plannedRemovals(ctx: ReleaseContext): string[] {
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

export const cleanup: Stage = {
  id: 'cleanup',
  title: 'Remove old releases',
  // Files the app wrote into a release after it went live are moved to shared/.rescued/ first.
  // The trash is emptied on every deploy, so a delete killed earlier is finished by the next one.
  // The newest release removed becomes the spare the next incremental deploy renames into place.
  plan: (ctx) => {
    const removals = plannedRemovals(ctx);
    const spare = usesSpare(uploadSettings(ctx).mode) ? removals.at(-1) : undefined;
    const { ephemeral } = persistenceOf(ctx);
    return [
      ...(removals.length ? [defineRemoveRelease(ctx.paths, ephemeral)] : []),
      ...removals.map((name) => planRemoveRelease(name, name === spare ? 'spare' : 'trash')),
      planEmptyTrash(ctx.paths),
    ];
  },
  notes: (o, ctx) => rescueNotes(o.stdout, ctx.paths.shared),
};
