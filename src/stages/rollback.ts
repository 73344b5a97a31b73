import type { ReleaseLogEntry } from '../layout/release-log.js';
import type { RemoteState } from '../layout/remote-state.js';
import { currentLinkText, releaseDir } from '../layout/paths.js';
import { planEmptyTrash } from '../layout/trash.js';
import { persistenceOf } from '../persistence/app-persistence.js';
import { defineRemoveRelease, planRemoveLeftRelease, rescueNotes } from '../persistence/rescue.js';
import { sh, type ShellText } from '../remote/sh.js';
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
function rolledBackEntry(ctx: RollbackContext, now = new Date()): ReleaseLogEntry {
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

/** Moving `current` back off a release that was live for a moment (a failed deploy or rollback). */
export interface SwitchBackContext extends HostContext {
  /** The release `current` points to now. */
  leaving: string;
  /** Where `current` goes back to; none on a first release: then the link goes, but only while it is still ours. */
  previous?: string;
  /** The log line that records the move, if there is one to write. */
  entry?: ReleaseLogEntry;
  /** Hooks after rollback run there: the release live again, or deploy_path. */
  releasePath: string;
  /** Remove the release we leave, once `current` no longer points at it; a failed health check keeps it to be looked at. */
  remove?: boolean;
}

/** The only stage that moves `current` backwards; its first command is the switch. */
export const switchBack: Stage<SwitchBackContext> = {
  id: 'revert',
  title: 'Switch back to the previous release',
  plan: (ctx) => [
    ctx.previous
      ? switchCurrent(ctx.paths, ctx.previous)
      : sh`if [ "$(readlink ${ctx.paths.current})" = ${currentLinkText(ctx.leaving)} ]; then rm -f ${ctx.paths.current}; fi`,
    ...(ctx.entry ? [appendLog(ctx.paths.log, ctx.entry)] : []),
    ...(ctx.remove ? removeLeft(ctx) : []),
  ],
  notes: (o, ctx) => (ctx.remove ? rescueNotes(o.stdout, ctx.paths.shared) : []),
};

/**
 * The release we leave goes only once `current` no longer points at it, and as pruning removes
 * one: it was live, so the app may have written into it (an export, an upload), and that moves
 * to shared/.rescued/ first; the delete itself runs from the trash, in the background.
 */
function removeLeft(ctx: SwitchBackContext): ShellText[] {
  return [
    defineRemoveRelease(ctx.paths, persistenceOf(ctx).ephemeral),
    sh`if [ "$(readlink ${ctx.paths.current})" != ${currentLinkText(ctx.leaving)} ]; then
${planRemoveLeftRelease(ctx.paths, ctx.leaving)}
fi`,
    planEmptyTrash(ctx.paths),
  ];
}

/** A new release that failed after the switch: `current` goes back and the release is logged failed. */
export function revertContext(
  ctx: ReleaseContext,
  previous: string | undefined,
  reason: string,
  remove = false,
): SwitchBackContext {
  return {
    ...ctx,
    leaving: ctx.release,
    previous,
    entry: logEntry(ctx, 'failed', { reason }),
    releasePath: previous ? releaseDir(ctx.paths, previous) : ctx.paths.root,
    remove,
  };
}

export const revertRelease: Stage<ReleaseContext & { previous?: string; reason: string }> = {
  id: switchBack.id,
  title: switchBack.title,
  plan: (ctx) => switchBack.plan(revertContext(ctx, ctx.previous, ctx.reason)),
};
