import { DeployError } from '../definitions/errors.js';
import { streamedCommand } from '../remote/script-stdin.js';
import { sh } from '../remote/sh.js';
import { REMOTE_EXIT } from './exit-codes.js';
import type { HostContext, Stage } from './types.js';

/** A task step as the engine resolved it: its command and the hosts it runs on. */
export interface TaskStep {
  run: string;
  hosts: readonly string[];
}

/**
 * Before a task takes the lock: is anything deployed? A host without `current` has nothing to
 * run a task in (and, before its first deploy, no `.deploy/` to lock).
 */
export const needsCurrent = (task: string): Stage<HostContext> => ({
  id: 'current',
  title: 'Find the live release',
  plan: ({ paths }) => [sh`[ -L ${paths.current} ] || exit ${REMOTE_EXIT.noCurrent}`],
  interpret: (o, ctx) =>
    o.exitCode === REMOTE_EXIT.noCurrent
      ? new DeployError('ETASK', {
          host: ctx.alias,
          task,
          command: '(none run)',
          stderr: 'no release is live: `current` does not point at one',
          noRelease: true,
        })
      : undefined,
});

/**
 * A task's remote steps for one host, in `current`, with the run's SHIPSHAPE_* variables, their
 * output streamed to the person (each is the user's own shell text, see streamedCommand).
 */
export const taskStage = (
  task: string,
  steps: readonly TaskStep[],
  env: Record<string, string>,
): Stage<HostContext> => {
  const mine = (ctx: HostContext) => steps.filter((s) => s.hosts.includes(ctx.alias)).map((s) => s.run);
  return {
    id: `task:${task}`,
    title: `Run task ${task}`,
    streams: true,
    plan: (ctx) => mine(ctx).map((run) => streamedCommand(run, ctx.paths.current, env)),
    shown: mine,
  };
};
