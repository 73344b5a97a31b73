import { noMask } from '../config/secrets.js';
import { DeployError, isDeployError } from '../definitions/errors.js';
import { switchBack, type SwitchBackContext } from '../stages/rollback.js';
import type { Stage } from '../stages/types.js';
import { unlock } from '../stages/unlock.js';
import { runStages, type HostRunner } from './executor.js';
import { hookStage, type HookBook } from './hooks.js';
import { hostRunContext, type RunContext } from './hook-env.js';
import type { Reporter } from './reporter.js';
import { passedSwitch } from './switch-point.js';

export interface SwitchBackHost {
  alias: string;
  runner: HostRunner;
  ctx: SwitchBackContext;
}

/** Whether `current` went back; if not, why, as the error to report for that host. */
export type SwitchBackResult = { ok: true } | { ok: false; error: DeployError };

/** What hooks after rollback see when a release goes back: the one live again, the one left, why. */
const switchBackContext = (ctx: SwitchBackContext): RunContext => ({
  ...hostRunContext(ctx),
  release: ctx.previous,
  releasePath: ctx.previous ? ctx.releasePath : undefined,
  previousRelease: ctx.leaving,
  status: 'rolled_back',
  error: ctx.entry?.reason,
});

/**
 * The one way `current` moves back after a release went live on some hosts (a failed health
 * check, a host that failed to switch, a rollback another host could not follow): per host one
 * script that switches back, logs it, runs the hooks after rollback and unlocks. A host that
 * did not go back still gets its unlock tried. Never throws; says per host whether it went back.
 */
export async function switchBackAll<H extends SwitchBackHost>(
  hosts: readonly H[],
  book: HookBook,
  reporter: Reporter,
): Promise<[H, SwitchBackResult][]> {
  const stages: Stage<SwitchBackContext>[] = [
    switchBack,
    ...(book.hasRemote('after', 'rollback')
      ? [hookStage<SwitchBackContext>(book, 'after', 'rollback', switchBackContext)]
      : []),
    unlock,
  ];
  return Promise.all(
    hosts.map(async (h): Promise<[H, SwitchBackResult]> => [h, await switchBackOne(h, stages, reporter)]),
  );
}

async function switchBackOne(
  h: SwitchBackHost,
  stages: Stage<SwitchBackContext>[],
  reporter: Reporter,
): Promise<SwitchBackResult> {
  // Already on the way back: an interrupt must not stop it halfway.
  const runner = { ...h.runner, signal: undefined };
  try {
    await runStages(runner, stages, h.ctx);
    return { ok: true };
  } catch (e) {
    const wentBack = passedSwitch(e, { stage: switchBack.id, index: 0 });
    // Masked before the cut: the first line may stop inside a multi-line secret.
    const message = (h.ctx.mask ?? noMask)((e as Error).message).split('\n')[0] ?? '';
    await runStages(runner, [unlock], h.ctx, { quiet: true }).catch((lost: unknown) =>
      reporter.log('error', `could not release the lock: ${(lost as Error).message}`, h.alias),
    );
    if (wentBack) {
      reporter.log('warn', `switched back, but a later step failed: ${message}`, h.alias);
      return { ok: true };
    }
    reporter.log('error', `could not switch back: ${message}`, h.alias);
    const reason = isDeployError(e) ? `${e.code}: ${message}` : message;
    return {
      ok: false,
      error: new DeployError('EREVERT', {
        host: h.alias,
        release: h.ctx.leaving,
        previous: h.ctx.previous,
        reason,
      }),
    };
  }
}
