import type { Config } from '../config/schema.js';
import { noMask, type Mask } from '../config/secrets.js';
import type { HookEvent } from '../definitions/hook-points.js';
import type { DeployError } from '../definitions/errors.js';
import type { CiInfo } from '../layout/run-info.js';
import type { HostContext } from '../stages/types.js';
import { runStages, type HostRunner } from './executor.js';
import { hostRunContext, type RunContext } from './hook-env.js';
import { hookStage, type HookBook } from './hooks.js';
import { runLocalHooks } from './hooks-local.js';
import { notify, type RunSummary } from './notify.js';
import type { HostOutcome, Reporter } from './reporter.js';

/** The event a finished deploy raises: anything but exit 0 (a failure, an interrupt, a switch back) is a failure. */
export const eventOf = (exitCode: number): HookEvent => (exitCode === 0 ? 'success' : 'failure');

const statusOf = (event: HookEvent) => (event === 'success' ? 'success' : 'failed');

/** The first line of an error as event steps and notifications see it, masked before it is cut. */
const errorLine = (e: DeployError | undefined, mask: Mask = noMask): string | undefined =>
  e && `${e.code}: ${mask(e.message).split('\n')[0]}`;

/** A host the run connected to. */
export interface EventHost {
  alias: string;
  runner: HostRunner;
  /** The most the run knows about the host: its release context, else its host context. */
  ctx: HostContext;
}

/**
 * `hooks.after.success` / `hooks.after.failure` on every host still connected, one script each,
 * after the deploy's own scripts (the lock is released by then). A failing step, or a host that
 * cannot be reached any more, is a warning: the deploy's outcome is settled and stays as it is.
 * An interrupt does not stop them (a second Ctrl-C exits at once).
 */
export async function runRemoteEventHooks(
  hosts: readonly EventHost[],
  book: HookBook,
  event: HookEvent,
  o: { reporter: Reporter; error?: DeployError; mask?: Mask },
): Promise<void> {
  const error = errorLine(o.error, o.mask);
  const stage = hookStage<HostContext>(book, 'after', event, (ctx) => ({
    ...hostRunContext(ctx),
    status: statusOf(event),
    error,
  }));
  const due = hosts.filter((h) => book.remote('after', event, h.alias).length);
  await Promise.all(
    due.map((h) =>
      runStages({ ...h.runner, signal: undefined }, [stage], h.ctx).catch((e: unknown) =>
        o.reporter.log(
          'warn',
          `hooks after ${event} failed (the deploy's result stands): ${(e as Error).message}`,
          h.alias,
        ),
      ),
    ),
  );
}

/** What a run hands to its local event steps and its notifications once it is over. */
export interface FinishedRun {
  config: Config;
  book: HookBook;
  event: RunSummary['event'];
  outcomes: readonly HostOutcome[];
  selector: string;
  release?: string;
  revision?: string;
  error?: DeployError;
  /** What local steps see: the run's context, without status and error (added here). */
  context: RunContext;
  ci?: CiInfo;
  startedAt: number;
  cwd: string;
  reporter: Reporter;
  mask: Mask;
}

/** The one value all hosts agree on, if they do. */
export const shared = (values: (string | undefined)[]): string | undefined => {
  const set = new Set(values.filter(Boolean));
  return set.size === 1 ? [...set][0] : undefined;
};

export function runSummary(r: FinishedRun, event: RunSummary['event']): RunSummary {
  return {
    event,
    application: r.config.application,
    selector: r.selector,
    hosts: r.outcomes.map((o) => ({
      host: o.host,
      status: o.status,
      release: o.release,
      previous_release: o.previous,
      error: o.error && `${o.error.code}: ${o.error.message.split('\n')[0]}`,
    })),
    release: r.release,
    previous_release: shared(r.outcomes.map((o) => o.previous)),
    revision: r.revision,
    user: r.context.user,
    ci: r.ci,
    duration_ms: Date.now() - r.startedAt,
    error: r.error && { code: r.error.code, message: r.error.message },
  };
}

/**
 * The end of a run on this machine: the local steps of `hooks.after.success` / `failure`, then
 * the notifications. Neither changes the run's exit code; failures are warnings. Never throws.
 */
export async function finishRun(r: FinishedRun): Promise<void> {
  if (r.event === 'success' || r.event === 'failure') {
    const event = r.event;
    await runLocalHooks(r.book, [{ id: event }], 'after', {
      cwd: r.cwd,
      reporter: r.reporter,
      mask: r.mask,
      context: { ...r.context, status: statusOf(event), error: errorLine(r.error, r.mask) },
    }).catch((e: unknown) =>
      r.reporter.log(
        'warn',
        `local step after ${event} failed (the deploy's result stands): ${(e as Error).message}`,
      ),
    );
  }
  await notify(r.config.notify, runSummary(r, r.event), { reporter: r.reporter, mask: r.mask });
}
