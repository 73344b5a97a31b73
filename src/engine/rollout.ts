import { isDeployError, shownError, toDeployError, type DeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import {
  deploy,
  deployStageInfo,
  finishDeploy,
  notifyStart,
  prepareDeploy,
  selectionContext,
  selectorText,
  type DeployOptions,
  type DeployResult,
} from './deploy.js';
import { readRunInfo } from '../layout/run-info.js';
import { configMask } from '../config/secrets.js';
import { deployInterruption, worstError } from './exit-status.js';
import { hookBook } from './hooks.js';
import { eachLimited } from '../source/pool.js';
import type { HostOutcome, Reporter } from './reporter.js';
import type { LocalCheckout } from './prepare-source.js';
import { rollback } from './rollback.js';
import { selectHosts, type SelectedHost } from './selector.js';

export interface RolloutOptions extends DeployOptions {
  /** `--no-atomic`: each host switches as soon as it is ready, independently of the others. */
  atomic?: boolean;
}

/** Splits hosts into batches of `size` (a count, or "25%" of them rounded up). */
function batchesOf<T>(items: readonly T[], size: number | string): T[][] {
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
  if (options.atomic !== false && config.strategy !== 'rolling')
    return deploy({ ...options, hosts: selected });

  // Several deploys, one run: one progress display, one build, one read of the source, and
  // hooks resolved against the whole selection (`once` means once, not once per batch).
  const { reporter } = options;
  const book = hookBook(config, selected);
  reporter.begin(
    selected.map((h) => h.alias),
    deployStageInfo(config, selected, book),
  );
  const began = Date.now();
  const run = readRunInfo(options.command ?? 'deploy', options.env ?? process.env);
  const context = selectionContext(config, selected, run.user);
  const mask = configMask(options.loaded, options.env);
  const selector = selectorText(config, options.selector);
  await notifyStart(config, selected, { selector, run, reporter, mask, startedAt: began });
  let result: DeployResult | undefined;
  const local: LocalCheckout = {};
  try {
    const prepared = await prepareDeploy(
      options.loaded,
      book,
      reporter,
      local,
      options.signal,
      undefined,
      context,
    ).catch((e: unknown) => toDeployError(e, 'local'));
    if (isDeployError(prepared)) {
      result = combine([], [], selected, prepared);
      return result;
    }
    const batch = { ...options, prepared, now: startedAt(options) };
    result =
      options.atomic === false ? await eachHost(batch, selected) : await rollingBatches(batch, selected);
    return result;
  } finally {
    const r = result ?? { exitCode: EXIT.failed, outcomes: [] };
    const finished = { ...context, release: r.release, revision: r.revision };
    await finishDeploy(r, {
      config,
      book,
      selector,
      context: finished,
      run,
      startedAt: began,
      reporter,
      mask,
      cwd: local.cwd,
    });
    // After the run's own end: its `after: success/failure` steps run in a --revision's checkout too.
    await local.dispose?.();
    await reporter.end(r.outcomes);
  }
}

/** Every batch gets the same release name: the one the rollout started with. */
function startedAt(options: DeployOptions): () => Date {
  const at = options.now?.() ?? new Date();
  return () => at;
}

/** `--no-atomic`: each host deploys and switches on its own, as soon as it is ready. */
async function eachHost(options: DeployOptions, selected: SelectedHost[]): Promise<DeployResult> {
  const results = await eachLimited(selected, options.parallel ?? options.loaded.config.parallel, (h) =>
    deploy({ ...options, hosts: [h] }),
  );
  return combine(
    results.map((r) => (r.status === 'fulfilled' ? r.value : failedResult(r.reason))),
    [],
  );
}

async function rollingBatches(options: DeployOptions, selected: SelectedHost[]): Promise<DeployResult> {
  const { reporter } = options;
  const { config } = options.loaded;
  const batches = batchesOf(selected, config.batch_size);
  const results: DeployResult[] = [];
  let failed: number | undefined;
  for (const [i, batch] of batches.entries()) {
    // A signal that came once the batch before went through (during its `after: success` hooks)
    // stops the rollout here: that batch stays as deployed, this one and the rest are not started.
    if (options.signal?.aborted) break;
    reporter.log('info', `rolling: batch ${i + 1}/${batches.length}: ${aliases(batch)}`);
    const result = await deploy({ ...options, hosts: batch });
    results.push(result);
    if (result.exitCode !== EXIT.ok) {
      failed = i;
      break;
    }
  }
  if (failed === undefined) {
    const untouched = batches.slice(results.length).flat();
    if (untouched.length === 0) return combine(results, []);
    reporter.log(
      'warn',
      `rolling: interrupted before batch ${results.length + 1}/${batches.length}; not started: ${aliases(untouched)}`,
    );
    return interrupted(combine(results, untouched), options.signal);
  }

  // Stopped by the signal, not by a failure: nothing is rolled back, and the run's error says where each host is.
  const stopped = !!options.signal?.aborted;
  // A batch found unchanged got no release: it stays as it was, whatever rollback_on_failure says.
  const unchanged = new Set(
    results.flatMap((r) => r.outcomes.filter((o) => o.status === 'unchanged').map((o) => o.host)),
  );
  const kept = batches
    .slice(0, failed)
    .flat()
    .filter((h) => !unchanged.has(h.alias));
  const untouched = batches.slice(failed + 1).flat();
  const batch = `batch ${failed + 1} (${aliases(batches[failed] ?? [])})`;
  // An interrupted batch may have switched, and then it stays on the new release: the hint says whether.
  reporter.log(
    'warn',
    stopped
      ? `rolling: interrupted in ${batch}`
      : `rolling: ${batch} failed and was not left on the new release`,
  );
  if (kept.length && config.rollback_on_failure === 'all' && !stopped) {
    reporter.log('warn', `rolling: rollback_on_failure is all: rolling back ${aliases(kept)}`);
    const rb = await rollback({
      loaded: options.loaded,
      selector: kept.map((h) => h.alias),
      reporter: nested(reporter),
      env: options.env,
      connect: options.connect,
      parallel: options.parallel ?? config.parallel,
      command: 'deploy (rolling: rollback_on_failure)',
      notify: false,
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
  const result = combine(results, untouched);
  return stopped ? interrupted(result, options.signal) : result;
}

/**
 * A rollout a signal stopped exits 130/143 like any interrupted deploy, never 0: its later batches
 * never ran. Its error says where each host was left: an earlier batch stays live, as the one
 * stopped after its switch, while the others were not touched.
 */
function interrupted(result: DeployResult, signal: AbortSignal | undefined): DeployResult {
  const hosts = result.outcomes.map((o) => ({ host: o.host, live: o.status === 'success' }));
  const stopped = deployInterruption(signal, hosts);
  return stopped ? { ...result, exitCode: stopped.exitCode, error: stopped.error } : result;
}

/** The rollout's display stays open: a rollback inside it reports stages and lines, not its own begin and end. */
const nested = (r: Reporter): Reporter => ({
  begin: () => {},
  stage: (...a) => r.stage(...a),
  log: (...a) => r.log(...a),
  progress: (...a) => r.progress?.(...a),
  end: async () => {},
});

function combine(
  results: DeployResult[],
  untouched: readonly SelectedHost[],
  failedHosts: readonly SelectedHost[] = [],
  failure?: DeployError,
): DeployResult {
  const outcomes: HostOutcome[] = [
    ...results.flatMap((r) => r.outcomes),
    ...untouched.map((h) => ({ host: h.alias, status: 'skipped' as const, durationMs: 0 })),
    ...failedHosts.map((h) => ({
      host: h.alias,
      status: 'failed' as const,
      durationMs: 0,
      error: failure && shownError(failure),
    })),
  ];
  const worst = worstError<{ exitCode: number; error?: DeployError }>([
    ...results,
    ...(failure ? [{ exitCode: failure.exitCode, error: failure }] : []),
  ]);
  const unchanged =
    results.length > 0 && results.every((r) => r.unchanged) && !untouched.length && !failedHosts.length;
  return {
    // The release this run made, where a batch made one; else the one the unchanged hosts run.
    release: (results.find((r) => r.release && !r.unchanged) ?? results.find((r) => r.release))?.release,
    unchanged,
    revision: results.find((r) => r.revision)?.revision,
    artifact: results.find((r) => r.artifact)?.artifact,
    exitCode: worst?.exitCode ?? EXIT.ok,
    outcomes,
    error: worst?.error,
  };
}

function failedResult(reason: unknown): DeployResult {
  const error = toDeployError(reason, 'local');
  return { exitCode: error.exitCode, outcomes: [], error };
}
