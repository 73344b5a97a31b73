import { EXIT } from '../definitions/exit-codes.js';
import { deploy, type DeployOptions, type DeployResult } from './deploy.js';
import { eachLimited } from './pool.js';
import type { HostOutcome } from './reporter.js';
import { rollback } from './rollback.js';
import { selectHosts, type SelectedHost } from './selector.js';

export interface RolloutOptions extends DeployOptions {
  /** `--no-atomic`: each host switches as soon as it is ready, independently of the others. */
  atomic?: boolean;
}

/** Splits hosts into batches of `size` (a count, or "25%" of them rounded up). */
export function batchesOf<T>(items: readonly T[], size: number | string): T[][] {
  const n =
    typeof size === 'number'
      ? size
      : Math.max(1, Math.ceil((items.length * Number.parseInt(size, 10)) / 100));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

const aliases = (hosts: readonly SelectedHost[]) => hosts.map((h) => h.alias).join(', ');

/**
 * The deploy across a fleet. By default every host is prepared before any switches
 * (all-or-nothing, in `deploy`). `strategy: rolling` deploys batch after batch, each
 * switched and health-checked before the next starts; a failed batch is rolled back
 * (deploy does that for its own hosts) and the rollout stops there.
 */
export async function rollout(options: RolloutOptions): Promise<DeployResult> {
  const { config } = options.loaded;
  const selected = selectHosts(config, options.selector, options.limit);
  // Every batch gets the same release name: the one the rollout started with.
  const startedAt = options.now?.() ?? new Date();
  const now = () => startedAt;

  if (options.atomic === false) {
    const results = await eachLimited(selected, options.parallel ?? config.parallel, (h) =>
      deploy({ ...options, hosts: [h], now }),
    );
    return combine(
      results.map((r) => (r.status === 'fulfilled' ? r.value : failedResult(r.reason))),
      [],
    );
  }
  if (config.strategy !== 'rolling') return deploy({ ...options, hosts: selected, now });

  const { reporter } = options;
  const batches = batchesOf(selected, config.batch_size);
  const results: DeployResult[] = [];
  let failed: number | undefined;
  for (const [i, batch] of batches.entries()) {
    reporter.log('info', `rolling: batch ${i + 1}/${batches.length}: ${aliases(batch)}`);
    const result = await deploy({ ...options, hosts: batch, now });
    results.push(result);
    if (result.exitCode !== EXIT.ok || options.signal?.aborted) {
      failed = i;
      break;
    }
  }
  if (failed === undefined) return combine(results, []);

  const kept = batches.slice(0, failed).flat();
  const untouched = batches.slice(failed + 1).flat();
  reporter.log(
    'warn',
    `rolling: batch ${failed + 1} (${aliases(batches[failed]!)}) failed and was not left on the new release`,
  );
  if (kept.length && config.rollback_on_failure === 'all' && !options.signal?.aborted) {
    reporter.log('warn', `rolling: rollback_on_failure is all: rolling back ${aliases(kept)}`);
    const rb = await rollback({
      loaded: options.loaded,
      selector: kept.map((h) => h.alias),
      reporter,
      env: options.env,
      connect: options.connect,
      parallel: options.parallel ?? config.parallel,
      command: 'deploy (rolling: rollback_on_failure)',
    });
    for (const h of rb.hosts) {
      const outcome = results.flatMap((r) => r.outcomes).find((o) => o.host === h.host);
      if (outcome && h.status === 'rolled_back')
        Object.assign(outcome, { status: 'rolled_back', release: h.to });
    }
  } else if (kept.length) {
    reporter.log('warn', `rolling: ${aliases(kept)} stay on the new release (earlier batches)`);
  }
  if (untouched.length) reporter.log('warn', `rolling: not started: ${aliases(untouched)}`);
  return combine(results, untouched);
}

function combine(results: DeployResult[], untouched: readonly SelectedHost[]): DeployResult {
  const outcomes: HostOutcome[] = [
    ...results.flatMap((r) => r.outcomes),
    ...untouched.map((h) => ({ host: h.alias, status: 'skipped' as const, durationMs: 0 })),
  ];
  const worst = results.reduce<DeployResult | undefined>(
    (w, r) => (!w || r.exitCode > w.exitCode ? r : w),
    undefined,
  );
  return {
    release: results.find((r) => r.release)?.release,
    exitCode: worst?.exitCode ?? EXIT.ok,
    outcomes,
    error: worst?.error,
  };
}

function failedResult(reason: unknown): DeployResult {
  return { exitCode: EXIT.failed, outcomes: [], error: reason as DeployResult['error'] };
}
