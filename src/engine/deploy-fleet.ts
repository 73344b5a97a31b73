import type { Config } from '../config/schema.js';
import type { Mask } from '../config/secrets.js';
import { DeployError, isDeployError, toDeployError } from '../definitions/errors.js';
import { forgetPlanningHashes, prepareUpload } from './prepare-upload.js';
import type { UploadChoice } from '../source/upload-plan.js';
import { discard, keptLive } from '../stages/discard.js';
import { revertContext } from '../stages/rollback.js';
import { switchCurrent, symlink } from '../stages/symlink.js';
import type { HostContext, ReleaseContext, SourceInfo, Stage } from '../stages/types.js';
import { unlock } from '../stages/unlock.js';
import { recordUnchanged } from '../stages/record-unchanged.js';
import type { Finished } from '../layout/finished.js';
import type { AppPersistence } from '../persistence/app-persistence.js';
import { ConnectionPool } from './connection-pool.js';
import { gateOnHealth, healthcheckFor } from './health.js';
import { runStages, type HostRunner } from './executor.js';
import type { HookBook } from './hooks.js';
import { runLocalHooks } from './hooks-local.js';
import { finishJoinsSwitch, linkJoinsUpload, type deployPhases } from './hooks-phases.js';
import { missingNote, missingReleases } from './missing-releases.js';
import { deployPaths, releaseDir } from '../layout/paths.js';
import { eachLimited } from '../source/pool.js';
import { openProbeMemory } from '../source/probe-memory.js';
import { decodeManifestAhead, dropManifestAhead } from '../source/manifest.js';
import { decodeListingAhead, dropListingAhead } from '../source/listing.js';
import { nextReleaseName } from '../layout/release-log.js';
import { liveRelease, parseRemoteState, type RemoteState } from '../layout/remote-state.js';
import type { Reporter } from './reporter.js';
import type { RunInfo } from '../layout/run-info.js';
import { hostRunContext, localRunContext, selectedRunContext, type RunContext } from './hook-env.js';
import type { SelectedHost } from './selector.js';
import { switchBackAll } from './switch-back.js';
import { passedSwitch, type SwitchPoint } from './switch-point.js';
import { changeOf, recordKey, sameByText, type SameBy } from './unchanged.js';
import { readChanges, readUnchecked } from '../persistence/release-changes.js';
import { releaseShape } from '../layout/release-shape.js';
import { deployCommand } from '../definitions/invocation.js';

/** What the run holds for a host once it is connected, locked, and given the release name. */
interface Connected {
  runner: HostRunner;
  hostCtx: HostContext;
}
interface Locked extends Connected {
  remote: RemoteState;
  /** The release `current` pointed to before this deploy. */
  previous?: string;
  /** The changes stage found the live release changed since it went live, or could not tell. */
  liveChanged: boolean;
}
interface Named extends Locked {
  ctx: ReleaseContext;
}

/**
 * Where a host is in the deploy, each state with what the run holds for the host there.
 * `named`: the fleet's release name is chosen. `unchanged`: planned, found running what it would
 * get (skip_unchanged), and unlocked. `created`: the upload began, so a release directory may
 * exist. `live`: `current` points at the new release. `reverted`: it did, and went back. A
 * failure is the host's `error`, whatever its state: the state says what to clean up.
 */
interface ProgressOf {
  /** Selected, not connected: not yet, or its connection failed. */
  new: object;
  connected: Connected;
  locked: Locked;
  named: Named;
  created: Named;
  live: Named;
  reverted: Named;
  done: Named;
  /** skip_unchanged: the host already runs what this deploy would give it; unlocked, nothing made. */
  unchanged: Unchanged;
}
interface Unchanged extends Named {
  /** Found by comparison: what its record (.deploy/finished) gets, so the next run need not compare. */
  confirmed?: Required<Finished>;
}
export type HostState = keyof ProgressOf;
type HostProgress<S extends HostState = HostState> = { [K in S]: { state: K } & ProgressOf[K] }[S];

export interface FleetHost<S extends HostState = HostState> extends SelectedHost {
  progress: HostProgress<S>;
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
  /** Fetch bundles put in the artifact store for this deploy; removed when the upload is over. */
  fetchBundles?: string[];
  /** Who runs the deploy, from where, and as which command: the lock's owner record, the hooks' SHIPSHAPE_USER. */
  run: RunInfo;
  /** The local hash cache being written (it never fails); awaited before the run ends. */
  saving?: Promise<void>;
  /** The link phase ran in the upload phase's script (uploadAll). */
  linked?: boolean;
}

type Phase = readonly Pick<Stage, 'id'>[];

const isIn =
  <S extends HostState>(...states: S[]) =>
  (h: FleetHost): h is FleetHost<S> =>
    (states as HostState[]).includes(h.progress.state);

export const isLive = isIn('live', 'done');

/** Live, cleaned up and unlocked (or as far as its connection let it): nothing is sent back. */
export const isDone = isIn('done');

export const isUnchanged = isIn('unchanged');

/** The hosts in one of these states that have not failed. */
export const healthy = <S extends HostState>(fleet: Fleet, ...states: S[]): FleetHost<S>[] =>
  fleet.hosts.filter(isIn(...states)).filter((h) => !h.error);

/** The one way a host's state changes. */
const moveTo = (h: FleetHost, progress: HostProgress): void => {
  h.progress = progress;
};

/** What the run holds for a host, whatever its state: for reports, which take what there is. */
export const heldFor = (h: FleetHost): Partial<Named> & { state: HostState } => h.progress;

/** The most the run knows about a host: its release context, else its host context. */
export const contextOf = (h: FleetHost): HostContext | undefined => heldFor(h).ctx ?? heldFor(h).hostCtx;

export const hasFailed = (fleet: Fleet): boolean =>
  fleet.hosts.some((h) => h.error) || !!fleet.signal?.aborted;

/** Runs fn on each host, at most `parallel` at once; a host that throws keeps its first error. */
export async function each<H extends FleetHost>(
  fleet: Fleet,
  list: H[],
  fn: (h: H) => Promise<void>,
): Promise<void> {
  const results = await eachLimited(list, fleet.parallel, fn);
  list.forEach((h, i) => {
    const r = results[i];
    if (r?.status === 'rejected') h.error ??= toDeployError(r.reason, h.alias);
  });
}

/** What a step on this machine sees of the fleet: every host as far as the run knows it. */
export function fleetContext(fleet: Fleet): RunContext {
  const contexts = fleet.hosts.map((h) => {
    const ctx = contextOf(h);
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
const localStep = (fleet: Fleet, phase: Phase, when: 'before' | 'after'): Promise<void> =>
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
    const runner = { alias: h.alias, transport, reporter: fleet.reporter, signal: fleet.signal };
    const paths = deployPaths(h.host.deploy_path);
    const hostCtx: HostContext = {
      alias: h.alias,
      host: h.host,
      config: fleet.config,
      paths,
      run: fleet.run,
      lockToken,
      mask: fleet.mask,
      persistence: fleet.persistence,
      memory: openProbeMemory(memoryTarget(h)),
    };
    moveTo(h, { state: 'connected', runner, hostCtx });
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

/**
 * Every deploy phase but the last is followed by the next one on the same host, win or lose (a
 * failure is followed by the scripts that discard the release and unlock): its channel is opened
 * while the phase runs (remote/ssh.ts).
 */
const NEXT = { followedBy: true };

/**
 * While the hosts answer the probe and the source has been read, the plan's longest decodes can
 * be done: the upload manifest this machine kept last for the first host, which is the live
 * release's unless another machine deployed since, and the listing the probe sends its deltas
 * against. A wrong guess only costs the decode.
 */
export function decodeAhead(fleet: Fleet): void {
  for (const h of fleet.hosts) {
    if (h.progress.state !== 'connected') continue;
    const memory = h.progress.hostCtx.memory;
    const digest = memory?.digests().manifests[0];
    const gz = digest && memory?.held().manifest(digest);
    if (gz) decodeManifestAhead(gz);
    const reference = memory?.held().listing?.data;
    if (reference) decodeListingAhead(reference);
    return;
  }
}

/** Sets up, locks and reads each host. */
export async function lockAll(fleet: Fleet): Promise<void> {
  await each(fleet, healthy(fleet, 'connected'), async (h) => {
    const out = await runStages(h.progress.runner, fleet.phases.prepare, h.progress.hostCtx, NEXT);
    const remote = parseRemoteState(out.stdout);
    const liveChanged = readChanges(out.stdout).length > 0 || readUnchecked(out.stdout).length > 0;
    moveTo(h, { ...h.progress, state: 'locked', remote, previous: liveRelease(remote), liveChanged });
    const missing = missingReleases(remote);
    if (missing.length) fleet.reporter.log('warn', missingNote(missing), h.alias);
  });
}

/** One name for the whole fleet, later than every release on every host. */
export function nameRelease(
  fleet: Fleet,
  now: Date,
  source: SourceInfo,
  persistence: AppPersistence,
): string {
  const locked = fleet.hosts.filter(isIn('locked'));
  const name = nextReleaseName(
    now,
    locked.flatMap((h) => h.progress.remote.releases),
  );
  for (const h of locked) {
    const { hostCtx, remote } = h.progress;
    const releasePath = releaseDir(hostCtx.paths, name);
    const shape = releaseShape(hostCtx.config, hostCtx.alias, hostCtx.host);
    const ctx = {
      ...hostCtx,
      release: name,
      releasePath,
      remote,
      source,
      persistence,
      shape,
      // Only skip_unchanged reads it; 10,000 files cost a pass of ~20 ms.
      sourceKey: hostCtx.config.skip_unchanged ? recordKey(source, persistence) : undefined,
    };
    moveTo(h, { ...h.progress, state: 'named', ctx });
  }
  return name;
}

/** Chooses per host how upload builds the release (incremental or full). */
export async function planUploads(fleet: Fleet): Promise<void> {
  const named = healthy(fleet, 'named');
  // Every live release's record vouches for it: nothing to read, hash or compare.
  if (fleet.config.skip_unchanged && !hasFailed(fleet) && unchangedEverywhere(fleet, named)) return;
  const planned = new Map<FleetHost<'named'>, UploadChoice>();
  const listed = new Map<FleetHost<'named'>, string | undefined>();
  await each(fleet, named, async (h) => {
    const { ctx } = h.progress;
    const p = await prepareUpload(ctx);
    ctx.upload = p.plan;
    // The listings and manifest the probe sent (megabytes at 40,000 files) served the plan; only
    // the live listing's digest is kept, for skip_unchanged's record.
    listed.set(h, ctx.remote.previous?.tree?.digest);
    ctx.remote.previous = undefined;
    planned.set(h, p);
  });
  const source = named[0]?.progress.ctx.source;
  if (source) forgetPlanningHashes(source);
  dropManifestAhead();
  dropListingAhead();
  if (fleet.config.skip_unchanged && !hasFailed(fleet) && unchangedEverywhere(fleet, named, listed)) return;
  for (const [h, p] of planned) {
    const { plan, notice } = p.complete?.() ?? p;
    h.progress.ctx.upload = plan;
    fleet.reporter.log(notice.level, notice.message, h.alias);
  }
}

/**
 * `skip_unchanged`: when no host would get anything its live release lacks, none gets a release
 * (and each one moves to `unchanged`). All or none, like the switch: a fleet is on one release.
 * Before the plans (no `listed`) only the records can tell, and a host they do not vouch for is
 * left to its plan without a word. After them, `listed` holds the listing each plan
 * compared the live release by, for the record.
 */
function unchangedEverywhere(
  fleet: Fleet,
  named: FleetHost<'named'>[],
  listed?: Map<FleetHost<'named'>, string | undefined>,
): boolean {
  const found = named.map((h) => changeOf(h.progress.ctx, h.progress.previous, h.progress.liveChanged));
  const at = found.findIndex((f) => 'change' in f);
  if (at >= 0) {
    const { change } = found[at] as { change: string };
    if (listed) fleet.reporter.log('info', `skip_unchanged: making a release: ${change}`, named[at]!.alias);
    return false;
  }
  for (const [i, h] of named.entries()) {
    const { same } = found[i] as { same: SameBy };
    const { ctx, previous } = h.progress;
    const listing = listed?.get(h);
    const confirmed =
      same === 'comparison' && listing && ctx.sourceKey && ctx.shape && previous
        ? { release: previous, shape: ctx.shape, listing, source: ctx.sourceKey }
        : undefined;
    fleet.reporter.log(
      'info',
      `unchanged: release ${previous} already holds this source, REVISION and deploy.yml (${sameByText(same)}); no release made (skip_unchanged)`,
      h.alias,
    );
    moveTo(h, { ...h.progress, state: 'unchanged', confirmed });
  }
  return true;
}

/** The hosts found unchanged are unlocked and the run ends: no hooks, no health check, no notification. */
export async function leaveUnchanged(fleet: Fleet): Promise<void> {
  const unchanged = fleet.hosts.filter(isUnchanged);
  saveHashes(fleet, unchanged);
  await each(fleet, unchanged, async (h) => {
    const { runner, ctx, confirmed } = h.progress;
    if (confirmed)
      await runStages<typeof ctx & { confirmed: typeof confirmed }>(runner, [recordUnchanged, unlock], {
        ...ctx,
        confirmed,
      });
    else await runStages(runner, [unlock], ctx);
  });
}

/** What planning and the archive hashed is written while the next phases wait on the hosts. */
function saveHashes(fleet: Fleet, hosts: FleetHost<'named' | 'unchanged'>[]): void {
  const caches = new Set(hosts.map((h) => h.progress.ctx.upload?.cache));
  fleet.saving = Promise.all([...caches].map((c) => c?.save())).then(() => undefined);
}

export async function uploadAll(fleet: Fleet): Promise<void> {
  const named = healthy(fleet, 'named');
  fleet.linked = linkJoinsUpload(fleet.book, fleet.phases, !!fleet.fetchBundles?.length);
  const stages = fleet.linked ? [...fleet.phases.upload, ...fleet.phases.link] : fleet.phases.upload;
  await each(fleet, named, async (h) => {
    moveTo(h, { ...h.progress, state: 'created' });
    await runStages(h.progress.runner, stages, h.progress.ctx, NEXT);
  });
  saveHashes(fleet, named);
  await localStep(fleet, [...fleet.phases.prepare, ...fleet.phases.upload], 'after');
}

export async function linkAll(fleet: Fleet): Promise<void> {
  if (!fleet.linked) {
    await localStep(fleet, fleet.phases.link, 'before');
    await each(fleet, healthy(fleet, 'created'), async (h) => {
      await runStages(h.progress.runner, fleet.phases.link, h.progress.ctx, NEXT);
    });
  }
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
  const checksHealth = fleet.hosts.some((h) => healthcheckFor(fleet.config, h.host));
  const joined = finishJoinsSwitch(fleet.book, fleet.phases, fleet.hosts.length, checksHealth);
  const finish = joined ? fleet.phases.finish : [];
  await each(fleet, healthy(fleet, 'created'), async (h) => {
    // Joined, the script starts with the switch and goes on to the finish: nothing in it may be
    // stopped halfway (finishAll).
    const runner = joined ? { ...h.progress.runner, signal: undefined } : h.progress.runner;
    try {
      await runStages(runner, [...fleet.phases.switch, ...finish], h.progress.ctx, joined ? {} : NEXT);
    } catch (e) {
      // Only a script that ran can have moved `current` (and only then is the plan read again).
      if (!isDeployError(e) || !e.during) throw e;
      const stage = e.during.stage;
      if (finish.some((s) => s.id === stage)) {
        moveTo(h, { ...h.progress, state: 'live' });
        try {
          await finishFailed(fleet, runner, h.progress.ctx, e);
        } finally {
          moveTo(h, { ...h.progress, state: 'done' });
        }
        return;
      }
      if (!passedSwitch(e, symlinkSwitchPoint(h.progress.ctx))) throw e;
      moveTo(h, { ...h.progress, state: 'live' });
      throw fleet.signal?.aborted ? e : afterSwitchError(e, h.alias);
    }
    moveTo(h, { ...h.progress, state: joined ? 'done' : 'live' });
  });
}

/** Every host is live: each one's health check; one that fails sends every host back. */
export async function checkHealth(fleet: Fleet): Promise<void> {
  const live = fleet.hosts.filter(isLive);
  const failed = await gateOnHealth(
    live.map((h) => ({ alias: h.alias, host: h.host, ...h.progress })),
    fleet.config,
  );
  for (const h of live) h.error ??= failed.get(h.alias);
}

/** Every host is live and healthy: hooks after the switch, cleanup, unlock. */
export async function finishAll(fleet: Fleet): Promise<void> {
  await localStepAfterSwitch(fleet, fleet.phases.switch, 'after');
  await localStepAfterSwitch(fleet, fleet.phases.finish, 'before');
  await each(fleet, fleet.hosts.filter(isIn('live')), async (h) => {
    const { ctx } = h.progress;
    // Live already: an interrupt from here on must not stop cleanup and unlock halfway.
    const runner = { ...h.progress.runner, signal: undefined };
    await runStages(runner, fleet.phases.finish, ctx).catch((e: unknown) =>
      finishFailed(fleet, runner, ctx, e),
    );
    moveTo(h, { ...h.progress, state: 'done' });
  });
  await localStepAfterSwitch(fleet, fleet.phases.finish, 'after');
}

/** The release is live; a failed cleanup is worth a warning, not a failed deploy. The lock still goes. */
function finishFailed(fleet: Fleet, runner: HostRunner, ctx: ReleaseContext, e: unknown): Promise<unknown> {
  fleet.reporter.log('warn', `cleanup failed: ${(e as Error).message}`, runner.alias);
  return runStages(runner, [unlock], ctx, { quiet: true }).catch((lost: unknown) => {
    if (!isDeployError(lost, 'ECONNLOST')) throw lost;
    // Cut off after the switch: say the new release is live, not that it "may" be, and name
    // the stage the connection was lost in (the cleanup, when that is where it went).
    const first = isDeployError(e, 'ECONNLOST') ? e : lost;
    throw new DeployError('ECONNLOST', { ...first.details, switched: true });
  });
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
      runner: h.progress.runner,
      ctx: revertContext(
        h.progress.ctx,
        h.progress.previous,
        h.error ? firstLine(fleet, h.error) : `switched back because ${failedElsewhere.join(', ')} failed`,
        // A release that failed its health check stays to be looked at; any other goes, as before the switch.
        h.error?.code !== 'EHEALTH',
      ),
      fleetHost: h,
    })),
    fleet.book,
    fleet.reporter,
  );
  for (const [{ fleetHost: h }, r] of results) {
    if (!r.ok) {
      // The host's own failure matters less than where it is left: still on the new release.
      h.error = r.error;
      continue;
    }
    moveTo(h, { ...h.progress, state: 'reverted' });
    const { previous } = h.progress;
    const others = failedElsewhere.filter((a) => a !== h.alias);
    const reason = h.error ? firstLine(fleet, h.error) : `${others.join(', ')} failed`;
    h.error ??= new DeployError('ESWITCHEDBACK', { host: h.alias, previous, reason });
    fleet.reporter.log('warn', `switched back to ${previous ?? 'no release'}: ${reason}`, h.alias);
  }
  const reason = interrupted ? `interrupted (${String(fleet.signal?.reason)})` : 'failed before the switch';
  const goingBack = new Set<FleetHost>(back);
  const connected = fleet.hosts.filter((h) => h.progress.state !== 'new' && !goingBack.has(h));
  await Promise.all(connected.map((h) => dropRelease(fleet, h, reason)));
}

/** Removes the host's incomplete release (a live one stays: see discard) and our lock. Never throws. */
async function dropRelease(fleet: Fleet, h: FleetHost, reason: string): Promise<void> {
  const at = h.progress;
  if (at.state === 'new') return;
  const runner = { ...at.runner, signal: undefined };
  try {
    if (at.state === 'created' || at.state === 'live' || at.state === 'done') {
      const why = h.error ? firstLine(fleet, h.error) : reason;
      const out = await runStages<ReleaseContext & { reason: string }>(runner, [discard, unlock], {
        ...at.ctx,
        reason: why,
      });
      // Stopped between the rename over `current` and the symlink stage's end: live after all, and
      // the run's outcome and hint say so instead of "`current` was not touched".
      if (at.state === 'created' && keptLive(out.stdout)) h.progress = { ...at, state: 'live' };
    } else await runStages(runner, [unlock], at.hostCtx);
  } catch (e) {
    // Typically a lost connection: the lock cannot be released from here, so say how to.
    fleet.reporter.log(
      'error',
      `cleanup after failure did not finish: ${(e as Error).message}; the lock may still be held: check with \`${deployCommand`lock status ${h.alias}`}\`, remove it with \`${deployCommand`unlock ${h.alias}`}\``,
      h.alias,
    );
  }
}
