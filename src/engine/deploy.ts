import { configMask } from '../config/secrets.js';
import { randomUUID } from 'node:crypto';
import type { LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { DeployError, isDeployError, shownError, toDeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { connectHost } from '../remote/connect.js';
import type { Transport } from '../remote/transport.js';
import {
  basePersistence,
  resolveAppPersistence,
  type AppPersistence,
} from '../persistence/app-persistence.js';
import type { SourceInfo } from '../stages/types.js';
import { ConnectionPool } from './connection-pool.js';
import {
  abortAll,
  checkHealth,
  connectAll,
  contextOf,
  decodeAhead,
  fleetContext,
  finishAll,
  isDone,
  hasFailed,
  heldFor,
  isLive,
  isUnchanged,
  linkAll,
  lockAll,
  nameRelease,
  planUploads,
  leaveUnchanged,
  switchAll,
  uploadAll,
  type Fleet,
  type FleetHost,
} from './deploy-fleet.js';
import { deployInterruption, worstError } from './exit-status.js';
import { dropFetchBundles, mayPull, planFetches } from './plan-fetch.js';
import { storeReach } from '../stages/store-reach.js';
import { eventOf, finishRun, runRemoteEventHooks, runSummary, shared } from './events.js';
import { localRunContext, selectedRunContext, type RunContext } from './hook-env.js';
import { notify } from './notify.js';
import { healthcheckFor } from './health.js';
import { hookBook, type HookBook } from './hooks.js';
import { runLocalHooks } from './hooks-local.js';
import { deployPhases, phaseStageInfo } from './hooks-phases.js';
import type { HostOutcome, Reporter, StageInfo } from './reporter.js';
import { readRunInfo, type RunInfo } from '../layout/run-info.js';
import type { Mask } from '../config/secrets.js';
import { selectHosts, type SelectedHost } from './selector.js';
import {
  checkSource,
  prepareSource,
  readSource,
  type LocalCheckout,
  type SourceCheck,
} from './prepare-source.js';
import { asInvocation } from '../definitions/invocation.js';

export { toDeployError, readSource };

export interface DeployOptions {
  loaded: LoadedConfig;
  selector?: string | readonly string[];
  reporter: Reporter;
  signal?: AbortSignal;
  /** How the run names itself in the lock and the log. */
  command?: string;
  parallel?: number;
  /** Only the first n selected hosts. */
  limit?: number;
  /** The hosts to deploy, already selected (a rollout's batch); overrides selector and limit. */
  hosts?: SelectedHost[];
  /**
   * Set by a rollout that runs several deploys: the hooks and the source, prepared once for
   * the whole selection. The rollout then reports begin and end itself.
   */
  prepared?: PreparedDeploy;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  connect?: (alias: string, selected: SelectedHost) => Promise<Transport>;
}

export interface DeployResult {
  release?: string;
  /** skip_unchanged found every host on a release like the one it would make: none was made. */
  unchanged?: boolean;
  /** What went into the release: the revision, and the artifact id for `--artifact`. */
  revision?: string;
  artifact?: string;
  exitCode: number;
  outcomes: HostOutcome[];
  error?: DeployError;
  /** What the run's local event steps see: the hosts as far as the run got with them. */
  context?: RunContext;
}

/** What a deploy reads on this machine before touching any host. */
export interface PreparedDeploy {
  book: HookBook;
  source: SourceInfo;
  persistence: AppPersistence;
  /** Where local steps run: the source, or a clean checkout of the deployed commit. */
  cwd: string;
}

/** The stages a reporter shows for a deploy of these hosts. */
export function deployStageInfo(
  config: Config,
  selected: readonly SelectedHost[],
  book: HookBook,
): StageInfo[] {
  const checksHealth = selected.some((s) => healthcheckFor(config, s.host));
  // Hosts that may pull an artifact are asked first whether they can reach the store.
  const pulls = mayPull(config, selected);
  const events = (['success', 'failure'] as const).filter((e) => book.hasRemote('after', e));
  return [
    ...phaseStageInfo(deployPhases(book)),
    ...(pulls ? [{ id: storeReach.id, title: storeReach.title }] : []),
    ...(checksHealth ? [{ id: 'healthcheck', title: 'Check the new release' }] : []),
    ...events.map((e) => ({ id: `after:${e}`, title: `Hooks after ${e}` })),
  ];
}

/** The selected hosts as a step on this machine sees them before any is contacted (a build). */
export const selectionContext = (
  config: Config,
  selected: readonly SelectedHost[],
  user: string,
  revision?: string,
): RunContext =>
  localRunContext(
    selected.map((s) => ({ ...selectedRunContext(config.application, user, s), revision })) as [
      RunContext,
      ...RunContext[],
    ],
  );

/** The selector as the run names it in notifications: as typed, or the default one. */
export const selectorText = (config: Config, selector: DeployOptions['selector']): string =>
  (typeof selector === 'string' ? selector : (selector ?? []).join(' ')) || config.default_selector || '';

/**
 * Local steps up to the upload (builds) run first, so a broken build fails before any host is
 * touched; then the source is read as the build left it.
 */
const buildsLocally = (book: HookBook, phases: Fleet['phases']): boolean =>
  [...phases.prepare, ...phases.upload].some((stage) => book.local('before', stage.id).length > 0);

export async function prepareDeploy(
  loaded: LoadedConfig,
  book: HookBook,
  reporter: Reporter,
  /**
   * Where local steps run and what removes what preparing made (a temporary checkout), held as
   * soon as it exists: the caller removes it once the run's last local step ran, also when
   * preparing failed (`after: failure` runs in the checkout whose build failed).
   */
  owner: LocalCheckout,
  signal?: AbortSignal,
  check?: SourceCheck,
  /** What the build steps see: the selected hosts, before any is contacted. */
  context?: RunContext,
): Promise<PreparedDeploy> {
  const { config } = loaded;
  const phases = deployPhases(book);
  const build = buildsLocally(book, phases)
    ? (cwd: string) =>
        runLocalHooks(book, [...phases.prepare, ...phases.upload], 'before', {
          cwd,
          reporter,
          signal,
          mask: configMask(loaded),
          context: context && { ...context, revision: context.revision ?? check?.commit?.sha },
        })
    : undefined;
  const { source, cwd, dispose } = await prepareSource(
    loaded,
    check ?? (await checkSource(loaded)),
    book,
    build,
    reporter,
    owner,
  );
  Object.assign(owner, { cwd, dispose });
  const persistence = await resolveAppPersistence(config, source.entries, undefined, source);
  for (const w of persistence.warnings) reporter.log('warn', w);
  return { book, source, persistence, cwd };
}

export function deploy(options: DeployOptions): Promise<DeployResult> {
  // A library call is an invocation of its own: its hints carry its deploy.yml, as the CLI's do.
  return asInvocation(() => deployLoaded(options), options.loaded.file);
}

async function deployLoaded(options: DeployOptions): Promise<DeployResult> {
  const { loaded, reporter } = options;
  const { config } = loaded;
  const selected = options.hosts ?? selectHosts(config, options.selector, options.limit);
  const book = options.prepared?.book ?? hookBook(config, selected);
  // Before any host is contacted: a bad recipe or persistence setting is a usage error (exit 2).
  const persistence = options.prepared?.persistence ?? basePersistence(config);
  const env = options.env ?? process.env;
  const now = () => options.now?.() ?? new Date();
  const fleet: Fleet = {
    run: readRunInfo(options.command ?? 'deploy', env, now()),
    hosts: selected.map((s) => ({ ...s, progress: { state: 'new' }, started: Date.now() })),
    config,
    reporter,
    signal: options.signal,
    parallel: options.parallel ?? config.parallel,
    book,
    phases: deployPhases(book),
    mask: configMask(loaded, options.env),
    persistence,
  };
  if (options.prepared) return runFleet(fleet, options, options.prepared);

  reporter.begin(
    selected.map((s) => s.alias),
    deployStageInfo(config, selected, book),
  );
  const startedAt = Date.now();
  const selector = selectorText(config, options.selector);
  await notifyStart(config, selected, { selector, run: fleet.run, reporter, mask: fleet.mask, startedAt });
  let result: DeployResult | undefined;
  let preparing: Promise<PreparedDeploy | undefined> | undefined;
  // Where `after: success/failure` run: a --revision's checkout even when the build in it failed.
  const checkout: LocalCheckout = {};
  try {
    // A bad revision, or uncommitted changes under require_clean, stop the deploy before it connects.
    const check = await checkSource(loaded).catch((e: unknown) => {
      for (const h of fleet.hosts) h.error ??= toDeployError(e, 'local');
      return undefined;
    });
    if (!check) return (result = resultOf(fleet));
    const context = selectionContext(config, selected, fleet.run.user);
    preparing = prepareDeploy(loaded, book, reporter, checkout, options.signal, check, context).catch(
      (e: unknown) => {
        for (const h of fleet.hosts) h.error ??= toDeployError(e, 'local');
        return undefined;
      },
    );
    // A local build must fail before any host is touched. Without one, preparing is reading the
    // source, and connecting, locking and probing the hosts meanwhile costs nothing but overlaps.
    if (buildsLocally(book, fleet.phases)) {
      const prepared = await preparing;
      result = prepared ? await runFleet(fleet, options, prepared) : resultOf(fleet);
    } else {
      result = await runFleet(fleet, options, preparing);
    }
    return result;
  } finally {
    await preparing;
    const r = result ?? resultOf(fleet);
    const context = r.context ?? fleetContext(fleet);
    // Before the checkout of a --revision goes: its `after: success/failure` steps run there too.
    await finishDeploy(r, {
      config,
      book,
      selector,
      context,
      run: fleet.run,
      startedAt,
      reporter,
      mask: fleet.mask,
      cwd: checkout.cwd,
    });
    await checkout.dispose?.();
    await reporter.end(r.outcomes);
  }
}

/**
 * A deploy's end on this machine, once its result is known: its local event steps, its
 * notifications. A run that made no release (skip_unchanged) has nothing to announce.
 */
export const finishDeploy = (
  r: DeployResult,
  o: {
    config: Config;
    book: HookBook;
    selector: string;
    context: RunContext;
    run: RunInfo;
    startedAt: number;
    reporter: Reporter;
    mask: Mask;
    /** Where the local build ran (a --revision's checkout); the source directory otherwise. */
    cwd?: string;
  },
): Promise<void> =>
  r.unchanged
    ? Promise.resolve()
    : finishRun({
        ...o,
        event: eventOf(r.exitCode),
        outcomes: r.outcomes,
        release: r.release,
        revision: r.revision,
        error: r.error,
        ci: o.run.ci,
        cwd: o.cwd ?? o.config.source,
      });

/** The opt-in `start` notification: before any host is contacted. */
export async function notifyStart(
  config: Config,
  selected: readonly SelectedHost[],
  o: { selector: string; run: RunInfo; reporter: Reporter; mask: Mask; startedAt: number },
): Promise<void> {
  if (!config.notify?.on.includes('start')) return;
  const summary = runSummary(
    {
      config,
      book: hookBook(config, selected),
      event: 'start',
      outcomes: [],
      selector: o.selector,
      context: selectionContext(config, selected, o.run.user),
      ci: o.run.ci,
      startedAt: o.startedAt,
      cwd: config.source,
      reporter: o.reporter,
      mask: o.mask,
    },
    'start',
  );
  summary.hosts = selected.map((s) => ({ host: s.alias, status: 'pending' }));
  await notify(config.notify, summary, { reporter: o.reporter, mask: o.mask });
}

/** The deploy on the hosts, phase by phase: every host finishes a phase before any starts the next. */
async function runFleet(
  fleet: Fleet,
  options: DeployOptions,
  preparing: PreparedDeploy | Promise<PreparedDeploy | undefined>,
): Promise<DeployResult> {
  const env = options.env ?? process.env;
  const now = () => options.now?.() ?? new Date();
  const connect =
    options.connect ??
    ((a: string, sel: SelectedHost) =>
      connectHost(a, sel.host, env, {
        config: fleet.config,
        log: (m) => fleet.reporter.log('warn', m, a),
        mask: fleet.mask,
      }));
  const byAlias = new Map(fleet.hosts.map((h) => [h.alias, h]));
  const pool = new ConnectionPool(fleet.parallel, async (alias) => {
    const selected = byAlias.get(alias);
    if (!selected) throw new DeployError('EINTERNAL', { host: alias, reason: 'not a host of this deploy' });
    return connect(alias, selected);
  });

  try {
    await connectAll(fleet, pool, randomUUID());
    if (!hasFailed(fleet)) {
      const locking = lockAll(fleet);
      // Once the source is read, what the plan will decode is decoded while the probe runs.
      void Promise.resolve(preparing)
        .then((p) => p && decodeAhead(fleet))
        .catch(() => undefined);
      await locking;
    }
    // Undefined only when preparing failed, which marked every host failed.
    const prepared = await preparing;
    if (prepared) {
      fleet.localCwd = prepared.cwd;
      nameRelease(fleet, now(), prepared.source, prepared.persistence);
    }
    if (!hasFailed(fleet)) await planUploads(fleet);
    if (fleet.hosts.some(isUnchanged)) {
      await leaveUnchanged(fleet);
      // Only an unlock can have failed: tried once more, and said how to do it by hand.
      if (hasFailed(fleet)) await abortAll(fleet);
      return resultOf(fleet);
    }
    if (!hasFailed(fleet)) await planFetches(fleet);
    if (!hasFailed(fleet)) await uploadAll(fleet);
    await dropFetchBundles(fleet, prepared?.source.artifact?.store);
    if (!hasFailed(fleet)) await linkAll(fleet);
    if (!hasFailed(fleet)) await switchAll(fleet);
    if (!hasFailed(fleet) && fleet.hosts.every(isLive)) await checkHealth(fleet);
    // Interrupted once every host is live: the release stays live and is finished like any other.
    // Finished in the switch phase's script: live and unlocked, whatever its cleanup said.
    const stands = fleet.signal?.aborted || fleet.hosts.every(isDone) || !fleet.hosts.some((h) => h.error);
    if (stands && fleet.hosts.every(isLive)) await finishAll(fleet);
    else await abortAll(fleet);
    const result = resultOf(fleet);
    // While the connections are open; the lock is already released.
    await runRemoteEventHooks(
      fleet.hosts.flatMap((h) => {
        const { runner } = heldFor(h);
        const ctx = contextOf(h);
        return runner && ctx ? [{ alias: h.alias, runner, ctx }] : [];
      }),
      fleet.book,
      eventOf(result.exitCode),
      { reporter: fleet.reporter, error: result.error, mask: fleet.mask },
    );
    return result;
  } finally {
    await dropFetchBundles(fleet, (await preparing)?.source.artifact?.store);
    await fleet.saving;
    await pool.closeAll();
  }
}

function outcomesOf(hosts: readonly FleetHost[]): HostOutcome[] {
  return hosts.map((h) => {
    // Stopped once live: the release stays, logged a success, and its error says so (the remote
    // command that was cut knew nothing of the switch: "`current` was not touched").
    const stoppedLive = isLive(h) && isDeployError(h.error, 'EINTERRUPTED');
    const error = stoppedLive
      ? new DeployError('EINTERRUPTED', {
          ...(h.error as DeployError<'EINTERRUPTED'>).details,
          switched: true,
        })
      : h.error;
    return {
      host: h.alias,
      release: isLive(h) ? h.progress.ctx.release : isUnchanged(h) ? h.progress.previous : undefined,
      previous: heldFor(h).previous,
      status:
        h.error && !stoppedLive ? 'failed' : isLive(h) ? 'success' : isUnchanged(h) ? 'unchanged' : 'skipped',
      durationMs: Date.now() - h.started,
      error: error && shownError(error),
    };
  });
}

function resultOf(fleet: Fleet): DeployResult {
  const stopped = deployInterruption(
    fleet.signal,
    fleet.hosts.map((h) => ({ host: h.alias, live: isLive(h) })),
  );
  // A host left on the new release while the others went back outranks every other failure.
  const stuck = fleet.hosts.find((h) => h.error?.code === 'EREVERT')?.error;
  const error = stopped?.error ?? stuck ?? worstError(fleet.hosts.map((h) => h.error));
  const ctx = fleet.hosts.map((h) => heldFor(h).ctx).find((c) => c !== undefined);
  const source = ctx?.source;
  // Found unchanged, no release was made: the one named is not on any host.
  const skipped = fleet.hosts.some(isUnchanged);
  const unchanged = skipped && !stopped && fleet.hosts.every((h) => isUnchanged(h) && !h.error);
  return {
    release: skipped ? shared(fleet.hosts.map((h) => heldFor(h).previous)) : ctx?.release,
    unchanged,
    revision: source?.revision,
    artifact: source?.artifact?.id,
    exitCode: stopped?.exitCode ?? error?.exitCode ?? EXIT.ok,
    outcomes: outcomesOf(fleet.hosts),
    error,
    context: fleetContext(fleet),
  };
}
