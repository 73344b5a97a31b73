import { sh } from '../remote/sh.js';
import { appendLog, logEntry } from './log-line.js';
import type { ReleaseContext, Stage } from './types.js';

/** After a failure before the switch: the incomplete release goes, the log says why. */
export const discard: Stage<ReleaseContext & { reason: string }> = {
  id: 'discard',
  title: 'Remove the failed release',
  plan: (ctx) => [
    sh`rm -rf -- ${ctx.releasePath}`,
    appendLog(ctx.paths.log, logEntry(ctx, 'failed', { reason: ctx.reason })),
  ],
};
