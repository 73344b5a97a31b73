import { currentLinkText } from '../layout/paths.js';
import { planReturnOrRemove, spareReturned, spareTree } from '../layout/spare.js';
import { sh } from '../remote/sh.js';
import { appendLog, logEntry } from './log-line.js';
import { switchTempLink } from './symlink.js';
import type { ReleaseContext, Stage } from './types.js';

const KEPT_LIVE_MARKER = '@@shipshape-kept-live';

/** The discard found `current` already on the release: the run was stopped after the switch after all. */
export const keptLive = (stdout: string): boolean => stdout.includes(KEPT_LIVE_MARKER);

/**
 * After a failure before the switch: the incomplete release goes, the log says why (the spare's
 * entries moved into it go back instead, to be checked: layout/spare.ts, planReturnOrRemove). An
 * interrupt can land between the rename over `current` and the symlink stage's log line; then
 * the release is live and complete, so it stays and is logged a success (removing it would
 * leave `current` dangling: the fault suite's SIGINT runs found exactly that).
 */
export const discard: Stage<ReleaseContext & { reason: string }> = {
  id: 'discard',
  title: 'Remove the failed release',
  plan: (ctx) => [
    sh`if [ "$(readlink ${ctx.paths.current} 2>/dev/null)" = ${currentLinkText(ctx.release)} ]; then
  # Stopped after the rename over current: the release is live and complete, so it stays.
  printf '%s\n' ${KEPT_LIVE_MARKER}
  ${appendLog(ctx.paths.log, logEntry(ctx, 'success'))}
else
  ${planReturnOrRemove(ctx.paths, ctx.release, ctx.releasePath)}
  rm -f -- ${switchTempLink(ctx.paths, ctx.release)}
  ${appendLog(ctx.paths.log, logEntry(ctx, 'failed', { reason: ctx.reason }))}
fi`,
  ],
  notes: (o, ctx) =>
    keptLive(o.stdout)
      ? [
          {
            level: 'warn',
            message: `current already pointed at ${ctx.release} when the run stopped: it stays live`,
          },
        ]
      : spareReturned(o.stdout)
        ? [
            {
              level: 'warn',
              message: `release ${ctx.release} held the spare moved into place: it went back to ${spareTree(ctx.paths)}, where the next deploy checks it for files written into it`,
            },
          ]
        : [],
};
