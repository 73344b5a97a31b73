import { setTimeout as delay } from 'node:timers/promises';
import type { Healthcheck } from '../config/hooks-schema.js';
import type { Config, HostConfig } from '../config/schema.js';
import { clipMasked, noMask, type Mask } from '../config/secrets.js';
import { DeployError, isDeployError } from '../definitions/errors.js';
import { healthcheckStage } from '../stages/healthcheck.js';
import type { ReleaseContext } from '../stages/types.js';
import { runStages, stderrTail, type HostRunner } from './executor.js';

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
  mask: Mask = noMask,
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
      // The app may echo a secret in its error page: masked before the body is cut to 200 characters.
      const body = clipMasked(mask, (await res.text().catch(() => '')).trim(), 200);
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
async function checkHost(
  runner: HostRunner,
  ctx: ReleaseContext,
  check: Healthcheck,
): Promise<string | undefined> {
  if (check.url !== undefined) {
    runner.reporter.stage(runner.alias, 'healthcheck', 'start');
    const saw = await checkUrl({ ...check, url: check.url }, runner.signal, ctx.mask);
    runner.reporter.stage(runner.alias, 'healthcheck', saw ? 'failed' : 'done', saw);
    return saw;
  }
  try {
    // The schema requires a url or a command: without a url, there is a command.
    await runStages(runner, [healthcheckStage({ ...check, command: check.command! })], ctx);
    return undefined;
  } catch (e) {
    if (isDeployError(e, 'EINTERRUPTED')) throw e;
    return stderrTail(isDeployError(e, 'ESTAGE') ? e.details.stderr : (e as Error).message, ctx.mask);
  }
}

const healthError = (host: string, saw: string, previous: string | undefined): DeployError =>
  new DeployError('EHEALTH', { host, reason: saw, previous });

export interface GatedHost {
  alias: string;
  host: HostConfig;
  runner: HostRunner;
  ctx: ReleaseContext;
  previous?: string;
}

/**
 * After every host switched: check each one. If any is unhealthy every host gets an error, so
 * the whole fleet goes back and no host keeps serving a release that failed elsewhere. Returns
 * those errors by host (none when all are healthy); switching back is the caller's (it knows
 * each host's state).
 */
export async function gateOnHealth(
  hosts: readonly GatedHost[],
  config: Config,
): Promise<Map<string, DeployError>> {
  const errors = new Map<string, DeployError>();
  const seen = await Promise.all(
    hosts.map(async (h) => {
      const check = healthcheckFor(config, h.host);
      const saw =
        check && (await checkHost(h.runner, h.ctx, check).catch((e: unknown) => (e as Error).message));
      return { h, saw };
    }),
  );
  // Interrupted while checking: the release is live and stays live, as after any switch.
  if (hosts.some((h) => h.runner.signal?.aborted)) return errors;
  const failed = seen.flatMap(({ h, saw }) => (saw === undefined ? [] : [{ h, saw }]));
  if (failed.length === 0) return errors;
  for (const { h, saw } of failed) errors.set(h.alias, healthError(h.alias, saw, h.previous));
  const why = `switched back because ${failed.map((f) => f.h.alias).join(', ')} failed its health check`;
  for (const h of hosts) if (!errors.has(h.alias)) errors.set(h.alias, healthError(h.alias, why, h.previous));
  return errors;
}
