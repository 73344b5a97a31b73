import { setTimeout as delay } from 'node:timers/promises';
import type { Healthcheck } from '../config/hooks-schema.js';
import type { Config, HostConfig } from '../config/schema.js';
import { DeployError } from '../definitions/errors.js';
import { healthcheckStage } from '../stages/healthcheck.js';
import { revertRelease } from '../stages/rollback.js';
import type { ReleaseContext, Stage } from '../stages/types.js';
import { unlock } from '../stages/unlock.js';
import { runStages, stderrTail, type HostRunner } from './executor.js';
import { hookStage, type HookBook } from './hooks.js';
import type { Reporter } from './reporter.js';

export const healthcheckFor = (config: Config, host: HostConfig): Healthcheck | undefined =>
  host.healthcheck ?? config.healthcheck;

/**
 * A `url` check runs here, on the deploying machine, with Node's fetch: that is the path users
 * take to the app, and it needs no curl or wget on the server. Returns what the last attempt saw,
 * or undefined when healthy.
 */
export async function checkUrl(
  check: Healthcheck & { url: string },
  signal?: AbortSignal,
): Promise<string | undefined> {
  let saw = '';
  for (let attempt = 0; attempt <= check.retries; attempt++) {
    if (attempt > 0) await delay(check.interval * 1000, undefined, { signal }).catch(() => undefined);
    if (signal?.aborted) return `interrupted (${String(signal.reason)})`;
    try {
      const res = await fetch(check.url, {
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(check.timeout * 1000), ...(signal ? [signal] : [])]),
      });
      const body = (await res.text().catch(() => '')).slice(0, 200).trim();
      if (res.status === check.expect_status) return undefined;
      saw = `GET ${check.url} answered ${res.status} (expected ${check.expect_status})${body ? `: ${body}` : ''}`;
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      saw =
        err.name === 'TimeoutError'
          ? `GET ${check.url} timed out after ${check.timeout}s`
          : `GET ${check.url} failed: ${err.cause?.code ?? err.message}`;
    }
  }
  return `${saw} after ${check.retries + 1} attempt(s)`;
}

/** Runs the host's health check; a `command` check costs one exec, a `url` check none. */
export async function checkHost(
  runner: HostRunner,
  ctx: ReleaseContext,
  check: Healthcheck,
): Promise<string | undefined> {
  if (check.url !== undefined) {
    runner.reporter.stage(runner.alias, 'healthcheck', 'start');
    const saw = await checkUrl({ ...check, url: check.url }, runner.signal);
    runner.reporter.stage(runner.alias, 'healthcheck', saw ? 'failed' : 'done', saw);
    return saw;
  }
  try {
    await runStages(runner, [healthcheckStage({ ...check, command: check.command! })], ctx);
    return undefined;
  } catch (e) {
    const err = e as DeployError;
    if (err.code === 'EINTERRUPTED') throw e;
    return stderrTail(String(err.details?.stderr ?? err.message));
  }
}

/**
 * The health check failed somewhere: every switched host goes back to the release it had, logs
 * the new one failed, runs the hooks after rollback and unlocks, in one script. Never throws.
 */
export async function revertFleet(
  hosts: readonly { alias: string; runner: HostRunner; ctx: ReleaseContext; previous?: string }[],
  book: HookBook,
  reason: string,
  reporter: Reporter,
): Promise<void> {
  type Ctx = ReleaseContext & { previous?: string; reason: string };
  const stages: Stage<Ctx>[] = [
    revertRelease,
    ...(book.hasRemote('after', 'rollback') ? [hookStage<Ctx>(book, 'after', 'rollback')] : []),
    unlock,
  ];
  await Promise.all(
    hosts.map(async (h) => {
      try {
        // Hooks after rollback run in the release that is live again.
        const releasePath = h.previous ? `${h.ctx.paths.releases}/${h.previous}` : h.ctx.paths.root;
        await runStages({ ...h.runner, signal: undefined }, stages, {
          ...h.ctx,
          releasePath,
          previous: h.previous,
          reason,
        });
      } catch (e) {
        reporter.log('error', `could not switch back: ${(e as Error).message}`, h.alias);
      }
    }),
  );
}

export const healthError = (host: string, saw: string, previous: string | undefined): DeployError =>
  new DeployError('EHEALTH', { host, reason: saw, previous });

export interface GatedHost {
  alias: string;
  host: HostConfig;
  runner?: HostRunner;
  ctx?: ReleaseContext;
  previous?: string;
  switched: boolean;
  error?: DeployError;
}

/**
 * After every host switched: check each one. If any is unhealthy the whole fleet goes back, so
 * no host keeps serving a release that failed elsewhere. Returns whether it switched back.
 */
export async function gateOnHealth(
  hosts: GatedHost[],
  config: Config,
  book: HookBook,
  reporter: Reporter,
): Promise<boolean> {
  const checked = hosts.filter((h) => healthcheckFor(config, h.host));
  if (checked.length === 0) return false;
  const seen = await Promise.all(
    checked.map(async (h) => {
      const saw = await checkHost(h.runner!, h.ctx!, healthcheckFor(config, h.host)!).catch(
        (e: unknown) => (e as Error).message,
      );
      return { h, saw };
    }),
  );
  // Interrupted while checking: the release is live and stays live, as after any switch.
  if (hosts.some((h) => h.runner?.signal?.aborted)) return false;
  const failed = seen.filter((s) => s.saw !== undefined);
  if (failed.length === 0) return false;
  const reason = failed.map((f) => `${f.h.alias}: ${f.saw}`).join('; ');
  for (const { h, saw } of failed) h.error ??= healthError(h.alias, saw!, h.previous);
  for (const h of hosts) {
    h.error ??= healthError(
      h.alias,
      `switched back because ${failed.map((f) => f.h.alias).join(', ')} failed its health check`,
      h.previous,
    );
  }
  await revertFleet(
    hosts.map((h) => ({ alias: h.alias, runner: h.runner!, ctx: h.ctx!, previous: h.previous })),
    book,
    `health check failed: ${reason}`,
    reporter,
  );
  for (const h of hosts) h.switched = false;
  return true;
}

/** Whether a failed switch-phase script got past `symlink`: its failure marker names a later stage. */
export const failedAfterSwitch = (e: unknown): boolean => {
  const stage = (e as { stage?: string }).stage;
  return stage !== undefined && stage !== 'symlink' && !stage.startsWith('before:');
};

/** A hook after symlink failed: the deploy is switched back like a failed health check (exit 4). */
export function afterSwitchError(e: unknown, host: string): DeployError {
  const d = (e as DeployError).details ?? {};
  return new DeployError('EAFTERSWITCH', { host, ...d, stage: (e as { stage?: string }).stage });
}
