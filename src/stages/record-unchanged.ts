import { planConfirmed, type Finished } from '../layout/finished.js';
import type { HostContext, Stage } from './types.js';

/**
 * skip_unchanged, after a host was found running the source by comparing it file by file: its
 * record (.deploy/finished) gets the release's listing as the probe saw it and the source's key,
 * so the next run that finds both unchanged knows without comparing (engine/unchanged.ts). Runs
 * in the unlock's script, under the lock.
 */
export const recordUnchanged: Stage<HostContext & { confirmed: Required<Finished> }> = {
  id: 'record-unchanged',
  title: 'Record that the live release holds this source',
  plan: (ctx) => [planConfirmed(ctx.paths, ctx.confirmed)],
};
