import type { Config } from '../config/schema.js';
import type { Mask } from '../config/secrets.js';
import { DeployError, isDeployError, toDeployError } from '../definitions/errors.js';
import { forgetPlanningHashes, prepareUpload } from './prepare-upload.js';
import { discard } from '../stages/discard.js';
import { revertContext } from '../stages/rollback.js';
import { switchCurrent, symlink } from '../stages/symlink.js';
import type { HostContext, ReleaseContext, SourceInfo, Stage } from '../stages/types.js';
import { unlock } from '../stages/unlock.js';
import type { AppPersistence } from '../persistence/app-persistence.js';
import { ConnectionPool } from './connection-pool.js';
import { runStages, type HostRunner } from './executor.js';
import type { HookBook } from './hooks.js';
import { runLocalHooks } from './hooks-local.js';
import type { deployPhases } from './hooks-phases.js';
import { missingNote, missingReleases } from './missing-releases.js';
import { deployPaths, releaseDir } from '../layout/paths.js';
import { eachLimited } from '../source/pool.js';
import { openProbeMemory } from '../source/probe-memory.js';
import { nextReleaseName } from '../layout/release-log.js';
import { liveRelease, parseRemoteState, type RemoteState } from '../layout/remote-state.js';
import type { Reporter } from './reporter.js';
import type { RunInfo } from '../layout/run-info.js';
import { hostRunContext, localRunContext, selectedRunContext, type RunContext } from './hook-env.js';
import type { SelectedHost } from './selector.js';
import { switchBackAll } from './switch-back.js';
import { passedSwitch, type SwitchPoint } from './switch-point.js';

/**
 * Where a host is in the deploy. `created`: the upload began, so a release directory may
 * exist. `live`: `current` points at the new release. `reverted`: it did, and went back.
 */
export type HostState = 'new' | 'connected' | 'locked' | 'created' | 'live' | 'reverted' | 'done';

export interface FleetHost extends SelectedHost {
  state: HostState;
  runner?: HostRunner;
  hostCtx?: HostContext;
  remote?: RemoteState;
  /** Known once the fleet's release name is chosen. */
  ctx?: ReleaseContext;
  /** The release `current` pointed to before this deploy. */
  previous?: string;
  error?: DeployError;
  started: number;
}

export interface Fleet {
  hosts: FleetHost[];
  config: Config;
  reporter: Reporter;
  signal?: AbortSignal;
  parallel: number;
  book: HookBook;
  phases: ReturnType<typeof deployPhases>;
  mask: Mask;
  /** The recipe and persistence keys as known before the source is read (the probe needs them). */
  persistence?: AppPersistence;
  /** Where local steps run once the source is prepared (a `--revision` build's checkout); else `source`. */
  localCwd?: string;
  /** deploy.yml as the user named it, for hints that print a command. */
  configFile?: string;
  /** Fetch bundles put in the artifact store for this deploy; removed when the upload is over. */
  fetchBundles?: string[];
  /** Who runs the deploy, from where, and as which command: the lock's owner record, the hooks' SHIPSHAPE_USER. */
  run: RunInfo;
}

type Phase = readonly Pick<Stage, 'id'>[];

export const isLive = (h: FleetHost): boolean => h.state === 'live' || h.state === 'done';
const healthy = (fleet: Fleet) => fleet.hosts.filter((h) => !h.error);
export const hasFailed = (fleet: Fleet): boolean =>
  fleet.hosts.some((h) => h.error) || !!fleet.signal?.aborted;

/** Runs fn on each host, at most `parallel` at once; a host that throws keeps its first error. */
export async function each(
  fleet: Fleet,
  list: FleetHost[],
  fn: (h: FleetHost) => Promise<void>,
): Promise<void> {
  const results = await eachLimited(list, fleet.parallel, fn);
  results.forEach((r, i) => {
    if (r.status === 'rejected') list[i]!.error ??= toDeployError(r.reason, list[i]!.alias);
  });
}

/** What a step on this machine sees of the fleet: every host as far as the run knows it. */
export function fleetContext(fleet: Fleet): RunContext {
  const contexts = fleet.hosts.map((h) => {
    const ctx = h.ctx ?? h.hostCtx;
    return ctx ? hostRunContext(ctx) : selectedRunContext(fleet.config.application, fleet.run.user, h);
  });
  return localRunContext(contexts as [RunContext, ...RunContext[]]);
}

const localOptions = (fleet: Fleet) => ({
  cwd: fleet.localCwd ?? fleet.config.source,
  reporter: fleet.reporter,
  signal: fleet.signal,
  mask: fleet.mask,
  context: fleetContext(fleet),
});

/** A failing local step fails the deploy on every host, like a failing stage would. */
export const localStep = (fleet: Fleet, phase: Phase, when: 'before' | 'after'): Promise<void> =>
  runLocalHooks(fleet.book, phase, when, localOptions(fleet)).catch((e: unknown) => {
    for (const h of fleet.hosts) h.error ??= toDeployError(e, 'local');
  });

/** The release is live by then: a failing local step is reported, the deploy stands. */
const localStepAfterSwitch = (fleet: Fleet, phase: Phase, when: 'before' | 'after'): Promise<void> =>
  runLocalHooks(fleet.book, phase, when, localOptions(fleet)).catch((e: unknown) =>
    fleet.reporter.log(
      'warn',
      `local step ${when} ${phase.map((s) => s.id).join(', ')} failed: ${(e as Error).message}`,
    ),
  );

/** Connects every host before any is locked, so an unreachable host fails the run early. */
export async function connectAll(fleet: Fleet, pool: ConnectionPool, lockToken: string): Promise<void> {
  await each(fleet, fleet.hosts, async (h) => {
    await pool.with(h.alias, async () => undefined);
    const transport = pool.transportFor(h.alias, h.host.local ? 'local' : 'ssh');
    h.runner = { alias: h.alias, transport, reporter: fleet.reporter, signal: fleet.signal };
    const paths = deployPaths(h.host.deploy_path);
    h.hostCtx = {
      alias: h.alias,
      host: h.host,
      config: fleet.config,
      paths,
      run: fleet.run,
      lockToken,
      mask: fleet.mask,
      persistence: fleet.persistence,
      configFile: fleet.configFile,
      memory: openProbeMemory(memoryTarget(h)),
    };
    h.state = 'connected';
  });
}

/** One memory per place a release lives: the same deploy path behind another name or port is another. */
const memoryTarget = (h: SelectedHost): string =>
  JSON.stringify([
    h.host.local ? 'local' : 'ssh',
    h.host.user ?? '',
    h.host.hostname ?? h.alias,
    h.host.port ?? 22,
    h.host.deploy_path,
  ]);

/** Sets up, locks and reads each host. */
export async function lockAll(fleet: Fleet): Promise<void> {
  await each(fleet, healthy(fleet), async (h) => {
    const out = await runStages(h.runner!, fleet.phases.prepare, h.hostCtx!);
    h.state = 'locked';
    h.remote = parseRemoteState(out.stdout);
    const missing = missingReleases(h.remote);
    if (missing.length) fleet.reporter.log('warn', missingNote(missing), h.alias);
    h.previous = liveRelease(h.remote);
  });
}

/** One name for the whole fleet, later than every release on every host. */
export function nameRelease(
  fleet: Fleet,
  now: Date,
  source: SourceInfo,
  persistence: AppPersistence,
): string {
  const name = nextReleaseName(
    now,
    fleet.hosts.flatMap((h) => h.remote?.releases ?? []),
  );
  for (const h of fleet.hosts) {
    if (!h.hostCtx || !h.remote) continue;
    const releasePath = releaseDir(h.hostCtx.paths, name);
    h.ctx = { ...h.hostCtx, release: name, releasePath, remote: h.remote, source, persistence };
  }
  return name;
}

/** Chooses per host how upload builds the release (incremental or full). */
export async function planUploads(fleet: Fleet): Promise<void> {
  await each(fleet, healthy(fleet), async (h) => {
    const { plan, notice } = await prepareUpload(h.ctx!);
    h.ctx!.upload = plan;
    // The listings and manifest the probe sent (megabytes at 40,000 files) served the plan only.
    h.ctx!.remote.previous = undefined;
    fleet.reporter.log(notice.level, notice.message, h.alias);
  });
  const source = fleet.hosts.find((h) => h.ctx)?.ctx?.source;
  if (source) forgetPlanningHashes(source);
}

export async function uploadAll(fleet: Fleet): Promise<void> {
  await each(fleet, healthy(fleet), async (h) => {
    h.state = 'created';
    await runStages(h.runner!, fleet.phases.upload, h.ctx!);
  });
  await localStep(fleet, [...fleet.phases.prepare, ...fleet.phases.upload], 'after');
}

export async function linkAll(fleet: Fleet): Promise<void> {
  await localStep(fleet, fleet.phases.link, 'before');
  await each(fleet, healthy(fleet), (h) => runStages(h.runner!, fleet.phases.link, h.ctx!).then(() => {}));
  await localStep(fleet, fleet.phases.link, 'after');
}

/** Where in the symlink stage `current` is renamed; found by its text, so reordering the plan cannot mislead. */
function symlinkSwitchPoint(ctx: ReleaseContext): SwitchPoint {
  const rename = switchCurrent(ctx.paths, ctx.release).text;
  return { stage: symlink.id, index: symlink.plan(ctx).findIndex((c) => c.text === rename) };
}

/** A step after the rename over `current` failed: the fleet is switched back like a failed health check (exit 4). */
function afterSwitchError(e: DeployError, host: string): DeployError {
  if (isDeployError(e, 'ESTAGE')) return new DeployError('EAFTERSWITCH', e.details);
  const stage = e.during?.stage ?? symlink.id;
  return new DeployError(
    'EAFTERSWITCH',
    { host, stage, reason: `${e.code}: ${e.message}` },
    { cause: e.cause },
  );
}

export async function switchAll(fleet: Fleet): Promise<void> {
  await localStep(fleet, fleet.phases.switch, 'before');
  if (hasFailed(fleet)) return;
  await each(fleet, healthy(fleet), async (h) => {
    try {
      await runStages(h.runner!, fleet.phases.switch, h.ctx!);
    } catch (e) {
      // Only a script that ran can have moved `current` (and only then is the plan read again).
      if (!isDeployError(e) || !e.during || !passedSwitch(e, symlinkSwitchPoint(h.ctx!))) throw e;
      h.state = 'live';
      throw fleet.signal?.aborted ? e : afterSwitchError(e, h.alias);
    }
    h.state = 'live';
  });
}

/** Every host is live and healthy: hooks after the switch, cleanup, unlock. */
export async function finishAll(fleet: Fleet): Promise<void> {
  await localStepAfterSwitch(fleet, fleet.phases.switch, 'after');
  await localStepAfterSwitch(fleet, fleet.phases.finish, 'before');
  await each(fleet, fleet.hosts, async (h) => {
    // Live already: an interrupt from here on must not stop cleanup and unlock halfway.
    const runner = { ...h.runner!, signal: undefined };
    await runStages(runner, fleet.phases.finish, h.ctx!).catch((e: unknown) => {
      // The release is live; a failed cleanup is worth a warning, not a failed deploy.
      fleet.reporter.log('warn', `cleanup failed: ${(e as Error).message}`, h.alias);
      return runStages(runner, [unlock], h.ctx!, { quiet: true }).catch((lost: unknown) => {
        if (!isDeployError(lost, 'ECONNLOST')) throw lost;
        // Cut off after the switch: say the new release is live, not that it "may" be, and name
        // the stage the connection was lost in (the cleanup, when that is where it went).
        const first = isDeployError(e, 'ECONNLOST') ? e : lost;
        throw new DeployError('ECONNLOST', { ...first.details, switched: true });
      });
    });
    h.state = 'done';
  });
  await localStepAfterSwitch(fleet, fleet.phases.finish, 'after');
}

/** What a release log's reason keeps of an error; masked before the cut, like every shortening. */
const firstLine = (fleet: Fleet, e: DeployError) => `${e.code}: ${fleet.mask(e.message).split('\n')[0]}`;

/**
 * The deploy did not go through everywhere. Hosts where the new release went live go back to
 * what they had (a first release loses its link), unless the run was interrupted: then, as after
 * any switch, it stays live. The other hosts drop their incomplete release. Every connected host
 * releases the lock: unlock only removes a lock holding this run's token. Never throws.
 */
export async function abortAll(fleet: Fleet): Promise<void> {
  const interrupted = !!fleet.signal?.aborted;
  const back = interrupted ? [] : fleet.hosts.filter(isLive);
  const failedElsewhere = fleet.hosts.filter((h) => h.error).map((h) => h.alias);
  const results = await switchBackAll(
    back.map((h) => ({
      alias: h.alias,
      runner: h.runner!,
      ctx: revertContext(
        h.ctx!,
        h.previous,
        h.error ? firstLine(fleet, h.error) : `switched back because ${failedElsewhere.join(', ')} failed`,
        // A release that failed its health check stays to be looked at; any other goes, as before the switch.
        h.error?.code !== 'EHEALTH',
      ),
    })),
    fleet.book,
    fleet.reporter,
  );
  back.forEach((h, i) => {
    const r = results[i]!;
    if (!r.ok) {
      // The host's own failure matters less than where it is left: still on the new release.
      h.error = r.error;
      return;
    }
    h.state = 'reverted';
    const others = failedElsewhere.filter((a) => a !== h.alias);
    const reason = h.error ? firstLine(fleet, h.error) : `${others.join(', ')} failed`;
    h.error ??= new DeployError('ESWITCHEDBACK', { host: h.alias, previous: h.previous, reason });
    fleet.reporter.log('warn', `switched back to ${h.previous ?? 'no release'}: ${reason}`, h.alias);
  });
  const reason = interrupted ? `interrupted (${String(fleet.signal?.reason)})` : 'failed before the switch';
  await Promise.all(
    fleet.hosts.filter((h) => h.runner && !back.includes(h)).map((h) => dropRelease(fleet, h, reason)),
  );
}

/** Removes the host's incomplete release (a live one stays: see discard) and our lock. Never throws. */
async function dropRelease(fleet: Fleet, h: FleetHost, reason: string): Promise<void> {
  const runner = { ...h.runner!, signal: undefined };
  try {
    if (h.ctx && (h.state === 'created' || isLive(h))) {
      const why = h.error ? firstLine(fleet, h.error) : reason;
      await runStages<ReleaseContext & { reason: string }>(runner, [discard, unlock], {
        ...h.ctx,
        reason: why,
      });
    } else await runStages(runner, [unlock], h.hostCtx!);
  } catch (e) {
    // Typically a lost connection: the lock cannot be released from here, so say how to.
    fleet.reporter.log(
      'error',
      `cleanup after failure did not finish: ${(e as Error).message}; the lock may still be held: check with \`deploy lock status ${h.alias}\`, remove it with \`deploy unlock ${h.alias}\``,
      h.alias,
    );
  }
}
