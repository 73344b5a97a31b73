import { planEmptyTrash } from '../layout/trash.js';
import { persistenceOf } from '../persistence/app-persistence.js';
import { defineRemoveRelease, planRemoveRelease, rescueNotes } from '../persistence/rescue.js';
import { plannedRemovals, plannedSpare } from './pruning.js';
import type { ReleaseContext, Stage } from './types.js';

export const cleanup: Stage = {
  id: 'cleanup',
  title: 'Remove old releases',
  // Files the app wrote into a release after it went live are moved to shared/.rescued/ first.
  // The trash is emptied on every deploy, so a delete killed earlier is finished by the next one.
  // The newest release removed becomes the spare the next incremental deploy renames into place.
  plan: (ctx) => {
    const removals = plannedRemovals(ctx);
    const spare = plannedSpare(ctx, removals);
    const { ephemeral } = persistenceOf(ctx);
    return [
      ...(removals.length ? [defineRemoveRelease(ctx.paths, ephemeral)] : []),
      ...removals.map((name) => planRemoveRelease(name, name === spare ? 'spare' : 'trash')),
      planEmptyTrash(ctx.paths),
    ];
  },
  notes: (o, ctx) => rescueNotes(o.stdout, ctx.paths.shared),
};
