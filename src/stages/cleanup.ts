import { planEmptyTrash } from '../layout/trash.js';
import { persistenceOf } from '../persistence/app-persistence.js';
import {
  defineRemoveRelease,
  planDropListsAhead,
  planRemoveRelease,
  planRetireSpare,
  rescueNotes,
  spareKeptNotes,
  spareRescueNotes,
} from '../persistence/rescue.js';
import { uploadSettings, usesSpare } from '../source/upload-plan.js';
import { planFinished } from '../layout/finished.js';
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
    // The first step of the finish, after the health check and the hooks after the switch: only
    // a release that got here is trusted by skip_unchanged.
    const finished = ctx.shape ? [planFinished(ctx.paths, { release: ctx.release, shape: ctx.shape })] : [];
    if (removals.length === 0) return [...finished, planEmptyTrash(ctx.paths)];
    return [
      ...finished,
      defineRemoveRelease(ctx.paths, ephemeral),
      ...(usesSpare(uploadSettings(ctx).mode) ? [] : [planRetireSpare]),
      ...removals.map((name) => planRemoveRelease(name, name === spare ? 'spare' : 'trash')),
      planDropListsAhead(ctx.paths),
      planEmptyTrash(ctx.paths),
    ];
  },
  notes: (o, ctx) => [
    ...spareRescueNotes(o.stdout, ctx.paths.shared),
    ...spareKeptNotes(o.stdout),
    ...rescueNotes(o.stdout, ctx.paths.shared),
  ],
};
