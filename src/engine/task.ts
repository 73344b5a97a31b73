import { configMask } from '../config/secrets.js';
import { DeployError, isDeployError, shownError, toDeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { releaseDir } from '../layout/paths.js';
import { liveRelease, parseRemoteState, type RemoteState } from '../layout/remote-state.js';
import { lock } from '../stages/lock.js';
import { probeState } from '../stages/probe.js';
import { needsCurrent, taskStage } from '../stages/task.js';
import { unlock } from '../stages/unlock.js';
import { runStages } from './executor.js';
import { interruption, worstError } from './exit-status.js';
import { hookEnv, hostRunContext, localRunContext, type RunContext } from './hook-env.js';
import { resolveSteps, type ResolvedStep } from './hooks.js';
import { runLocalStep } from './hooks-local.js';
import { withHostSessions, type HostSession, type SessionOptions } from './host-session.js';
import type { HostOutcome } from './reporter.js';
import { rollbackCandidates } from './rollback-target.js';
import { deployCommand } from '../definitions/invocation.js';

export interface TaskOptions extends Omit<SessionOptions, 'command'> {
  /** The task, as named under `tasks:`. */
  name: string;
}

export interface TaskResult {
  exitCode: number;
  outcomes: HostOutcome[];
  error?: DeployError;
}

interface TaskHost extends HostSession {
  remote?: RemoteState;
  started: number;
}

/** What a task's steps see: the live release as the release, the newest successful one before it as the previous. */
function taskContext(h: TaskHost): RunContext {
  const live = h.remote && liveRelease(h.remote);
  return {
    ...hostRunContext(h.ctx),
    release: live,
    releasePath: live ? releaseDir(h.ctx.paths, live) : undefined,
    previousRelease: h.remote && live ? rollbackCandidates(h.remote).find((r) => r < live) : undefined,
  };
}

/** Consecutive steps of the same kind: remote ones go to each host as one script, local ones run here in turn. */
function segments(steps: readonly ResolvedStep[]): ResolvedStep[][] {
  const out: ResolvedStep[][] = [];
  for (const step of steps) {
    const last = out.at(-1);
    if (last && last[0]?.local === step.local) last.push(step);
    else out.push([step]);
  }
  return out;
}

/** A failed step as the task's error: which host, task, step and exit code, and the last lines it printed. */
function taskError(e: unknown, h: TaskHost, name: string): DeployError {
  if (!isDeployError(e, 'ESTAGE')) return toDeployError(e, h.alias);
  const d = e.details;
  return new DeployError('ETASK', {
    host: h.alias,
    task: name,
    exitCode: d.exitCode,
    command: d.command,
    stderr: d.stderr,
  });
}

/**
 * `deploy task <name> [selector]`: the steps of `tasks.<name>` in `current` on each selected
 * host, under the deploy lock (so no deploy switches `current` under it), filters (`once`,
 * `hosts`, `labels`) applied as in hooks. Per host: one script takes the lock and reads the
 * state, one per run of consecutive remote steps, one releases the lock; local steps run once,
 * here, between them. A host whose step fails stops there; the others go on. Exit code: the
 * worst host's.
 */
export async function runTask(o: TaskOptions): Promise<TaskResult> {
  const { config, file } = o.loaded;
  const steps = config.tasks[o.name];
  if (!steps) {
    const known = Object.keys(config.tasks);
    throw new DeployError('EUSAGE', {
      reason: `no task \`${o.name}\` in ${file} (tasks: ${known.join(', ') || 'none'}; \`${deployCommand`list`}\` shows them)`,
    });
  }
  const { reporter, signal } = o;
  const command = ['deploy task', o.name, ...[o.selector ?? []].flat()].join(' ');
  return withHostSessions({ ...o, command }, async (sessions) => {
    const hosts: TaskHost[] = sessions.map((s) => ({ ...s, started: Date.now() }));
    const stageId = `task:${o.name}`;
    reporter.begin(
      hosts.map((h) => h.alias),
      [needsCurrent(o.name), lock, probeState, { id: stageId, title: `Run task ${o.name}` }, unlock].map(
        ({ id, title }) => ({
          id,
          title,
        }),
      ),
      `running task ${o.name} on`,
    );
    const going = () => hosts.filter((h) => !h.error && !signal?.aborted);
    const each = (fn: (h: TaskHost) => Promise<void>) =>
      Promise.all(
        going().map((h) => fn(h).catch((e: unknown) => void (h.error ??= taskError(e, h, o.name)))),
      );

    await each(async (h) => {
      const out = await runStages(h.runner, [needsCurrent(o.name), lock, probeState], h.ctx);
      h.remote = parseRemoteState(out.stdout);
    });

    const resolved = resolveSteps(steps, config.tasks, sessions);
    for (const segment of segments(resolved)) {
      if (going().length === 0) break;
      if (segment[0]?.local) {
        const context = localRunContext(going().map(taskContext) as [RunContext, ...RunContext[]]);
        for (const step of segment.filter((s) => s.hosts.length > 0)) {
          reporter.log('info', `local: ${step.run}`);
          const failed = await runLocalStep(step.run, config.source, {
            signal,
            mask: configMask(o.loaded, o.env),
            env: hookEnv(context),
            onLine: (line) => reporter.output?.(undefined, stageId, line),
          }).catch((e: unknown) => e);
          if (failed) for (const h of going()) h.error ??= taskError(failed, h, o.name);
        }
        continue;
      }
      await each(async (h) => {
        const stage = taskStage(o.name, segment, hookEnv(taskContext(h)));
        if (stage.plan(h.ctx).length) await runStages(h.runner, [stage], h.ctx);
      });
    }

    // Every host whose lock this run may hold: unlock removes only a lock holding our token.
    await Promise.all(
      hosts
        .filter((h) => h.runner.transport)
        .map((h) =>
          runStages({ ...h.runner, signal: undefined }, [unlock], h.ctx, { quiet: true }).catch(
            (e: unknown) =>
              reporter.log('error', `could not release the lock: ${(e as Error).message}`, h.alias),
          ),
        ),
    );

    const outcomes: HostOutcome[] = hosts.map((h) => ({
      host: h.alias,
      release: h.remote && liveRelease(h.remote),
      status: h.error ? 'failed' : signal?.aborted ? 'skipped' : 'success',
      durationMs: Date.now() - h.started,
      error: h.error && shownError(h.error),
    }));
    await reporter.end(outcomes);
    const stopped = interruption(signal, false);
    const interrupted =
      stopped && new DeployError('EINTERRUPTED', { signal: String(signal?.reason), task: o.name });
    const error = interrupted ?? worstError(hosts.map((h) => h.error));
    return { exitCode: stopped?.exitCode ?? error?.exitCode ?? EXIT.ok, outcomes, error };
  });
}
