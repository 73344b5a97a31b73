import type { ReleaseLogEntry } from '../engine/release-log.js';
import type { RemoteState } from '../engine/remote-state.js';
import { sh } from '../remote/sh.js';
import { appendLog, logEntry } from './log-line.js';
import { switchCurrent } from './symlink.js';
import type { HostContext, ReleaseContext, Stage } from './types.js';

export interface RollbackContext extends HostContext {
  remote: RemoteState;
  /** The release `current` will point to. */
  target: string;
  /** Its directory: hooks after rollback run there. */
  releasePath: string;
  /** The release `current` pointed to, marked rolled_back. */
  left?: string;
}

/** The log line that marks the release we leave; it keeps who deployed it and says who left it. */
export function rolledBackEntry(ctx: RollbackContext, now = new Date()): ReleaseLogEntry {
  const left = ctx.left!;
  const before = ctx.remote.history.get(left);
  return {
    ...(before ?? {
      name: left,
      started_at: now.toISOString(),
      user: ctx.run.user,
      machine: ctx.run.machine,
    }),
    name: left,
    status: 'rolled_back',
    ended_at: now.toISOString(),
    reason: `rolled back to ${ctx.target} by ${ctx.run.user}@${ctx.run.machine}`,
  };
}

/** `deploy rollback`: the same atomic rename as a deploy's switch, never `ln -nfs`. */
export const rollbackSwitch: Stage<RollbackContext> = {
  id: 'rollback',
  title: 'Switch current back',
  plan: (ctx) => [
    switchCurrent(ctx.paths, ctx.target),
    ...(ctx.left ? [appendLog(ctx.paths.log, rolledBackEntry(ctx))] : []),
  ],
};

/**
 * A new release that failed its health check: `current` goes back to what it was (or away, on
 * a first deploy, but only while it still points at our release) and the release is logged failed.
 */
export const revertRelease: Stage<ReleaseContext & { previous?: string; reason: string }> = {
  id: 'revert',
  title: 'Switch back to the previous release',
  plan: (ctx) => [
    ctx.previous
      ? switchCurrent(ctx.paths, ctx.previous)
      : sh`if [ "$(readlink ${ctx.paths.current})" = ${`releases/${ctx.release}`} ]; then rm -f ${ctx.paths.current}; fi`,
    appendLog(ctx.paths.log, logEntry(ctx, 'failed', { reason: ctx.reason })),
  ],
};
