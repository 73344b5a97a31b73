import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { DeployError, isDeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { connectHost } from '../remote/connect.js';
import type { Transport } from '../remote/transport.js';
import { resolveAppPersistence } from '../persistence/app-persistence.js';
import { readIgnorePatterns, scanSource } from '../source/scan.js';
import { readRevision } from '../source/revision.js';
import { prepareUpload } from '../source/prepare-upload.js';
import { discard } from '../stages/discard.js';
import { switchCurrent } from '../stages/symlink.js';
import { unlock } from '../stages/unlock.js';
import type { HostContext, ReleaseContext, SourceInfo } from '../stages/types.js';
import { runStages, type HostRunner } from './executor.js';
import { deployPaths, releaseDir } from './paths.js';
import { ConnectionPool } from './connection-pool.js';
import { eachLimited } from './pool.js';
import { nextReleaseName } from './release-log.js';
import { missingNote, missingReleases } from './missing-releases.js';
import { parseRemoteState } from './remote-state.js';
import type { HostOutcome, Reporter } from './reporter.js';
import { readRunInfo } from './run-info.js';
import { selectHosts, type SelectedHost } from './selector.js';
import { afterSwitchError, failedAfterSwitch, gateOnHealth, healthcheckFor } from './health.js';
import { hookBook } from './hooks.js';
import { runLocalHooks } from './hooks-local.js';
import { deployPhases, phaseStageInfo } from './hooks-phases.js';

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
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  connect?: (alias: string, selected: SelectedHost) => Promise<Transport>;
}

export interface DeployResult {
  release?: string;
  exitCode: number;
  outcomes: HostOutcome[];
  error?: DeployError;
}

interface HostRun extends SelectedHost {
  runner?: HostRunner;
  ctx?: ReleaseContext;
  hostCtx?: HostContext;
  created: boolean;
  switched: boolean;
  previous?: string;
  error?: DeployError;
  started: number;
}

export async function deploy(options: DeployOptions): Promise<DeployResult> {
  const { loaded, reporter, signal } = options;
  const { config } = loaded;
  const env = options.env ?? process.env;
  const selected = options.hosts ?? selectHosts(config, options.selector, options.limit);
  const run = readRunInfo(options.command ?? 'deploy', env, options.now?.() ?? new Date());
  const lockToken = randomUUID();
  const hosts: HostRun[] = selected.map((s) => ({
    ...s,
    created: false,
    switched: false,
    started: Date.now(),
  }));
  const parallel = options.parallel ?? config.parallel;
  const book = hookBook(config, selected);
  const phases = deployPhases(book);
  const checksHealth = selected.some((s) => healthcheckFor(config, s.host));

  reporter.begin(
    hosts.map((h) => h.alias),
    [
      ...phaseStageInfo(phases),
      ...(checksHealth ? [{ id: 'healthcheck', title: 'Check the new release' }] : []),
    ],
  );

  // Local steps up to the upload (builds) run first: a broken build fails before any host is touched.
  const localOpts = { cwd: config.source, reporter, signal };
  await runLocalHooks(book, [...phases.prepare, ...phases.upload], 'before', localOpts);
  const source = await readSource(loaded);
  const persistence = await resolveAppPersistence(config, source.entries);
  for (const w of persistence.warnings) reporter.log('warn', w);

  const each = async (list: HostRun[], fn: (h: HostRun) => Promise<void>) => {
    const results = await eachLimited(list, parallel, fn);
    results.forEach((r, i) => {
      if (r.status === 'rejected') list[i]!.error ??= toDeployError(r.reason, list[i]!.alias);
    });
  };
  const healthy = () => hosts.filter((h) => !h.error);
  /** A failing local step fails the deploy on every host, like a failing stage would. */
  const localAt = (phase: readonly { id: string }[], when: 'before' | 'after') =>
    runLocalHooks(book, phase, when, localOpts).catch((e: unknown) => {
      for (const h of hosts) h.error ??= toDeployError(e, 'local');
    });
  // The release is live by then: a failing local step is reported, the deploy stands.
  const localAfterSwitch = (phase: readonly { id: string }[], when: 'before' | 'after') =>
    runLocalHooks(book, phase, when, localOpts).catch((e: unknown) =>
      reporter.log(
        'warn',
        `local step ${when} ${phase.map((s) => s.id).join(', ')} failed: ${(e as Error).message}`,
      ),
    );
  const anyFailed = () => hosts.some((h) => h.error) || signal?.aborted;
  const connect =
    options.connect ??
    ((a: string, sel: SelectedHost) =>
      connectHost(a, sel.host, env, { config, log: (m) => reporter.log('warn', m, a) }));
  const byAlias = new Map(hosts.map((h) => [h.alias, h]));
  const pool = new ConnectionPool(parallel, (alias) => connect(alias, byAlias.get(alias)!));

  try {
    await each(hosts, async (h) => {
      // Connect now, before any host is locked: an unreachable host fails the run early.
      await pool.with(h.alias, async () => undefined);
      const transport = pool.transportFor(h.alias, h.host.local ? 'local' : 'ssh');
      h.runner = { alias: h.alias, transport, reporter, signal };
      h.hostCtx = {
        alias: h.alias,
        host: h.host,
        config,
        paths: deployPaths(h.host.deploy_path),
        run,
        lockToken,
      };
    });

    if (!anyFailed()) {
      await each(healthy(), async (h) => {
        const out = await runStages(h.runner!, phases.prepare, h.hostCtx!);
        const remote = parseRemoteState(out.stdout);
        const missing = missingReleases(remote);
        if (missing.length) reporter.log('warn', missingNote(missing), h.alias);
        h.previous = remote.current.kind === 'link' ? remote.current.release : undefined;
        h.ctx = { ...h.hostCtx!, release: '', releasePath: '', remote, source, persistence };
      });
    }

    // One name for the whole fleet, later than every release on every host.
    const name = nextReleaseName(
      options.now?.() ?? new Date(),
      hosts.flatMap((h) => h.ctx?.remote.releases ?? []),
    );
    for (const h of hosts) {
      if (h.ctx) Object.assign(h.ctx, { release: name, releasePath: releaseDir(h.ctx.paths, name) });
    }
    if (!anyFailed()) {
      await each(healthy(), async (h) => {
        const { plan, notice } = await prepareUpload(h.ctx!);
        h.ctx!.upload = plan;
        reporter.log(notice.level, notice.message, h.alias);
      });
    }

    for (const phase of [phases.upload, phases.link]) {
      if (anyFailed()) break;
      if (phase !== phases.upload) await localAt(phase, 'before');
      await each(healthy(), async (h) => {
        if (phase === phases.upload) h.created = true;
        await runStages(h.runner!, phase, h.ctx!);
      });
      if (phase === phases.upload) await localAt([...phases.prepare, ...phases.upload], 'after');
      else await localAt(phase, 'after');
    }

    if (!anyFailed()) await localAt(phases.switch, 'before');
    if (!anyFailed()) {
      await each(healthy(), async (h) => {
        await runStages(h.runner!, phases.switch, h.ctx!).catch((e: unknown) => {
          // A hook after symlink failed or was interrupted: `current` already points at the release.
          h.switched = failedAfterSwitch(e);
          throw h.switched && !signal?.aborted ? afterSwitchError(e, h.alias) : e;
        });
        h.switched = true;
      });
      // Interrupted after the switch: the new release stays live (and gets its unlock below).
      if (hosts.some((h) => h.error) && !signal?.aborted) await switchBack(hosts, reporter);
    }

    const reverted =
      hosts.every((h) => h.switched) &&
      !signal?.aborted &&
      (await gateOnHealth(hosts, config, book, reporter));
    if (hosts.every((h) => h.switched)) {
      await localAfterSwitch(phases.switch, 'after');
      await localAfterSwitch(phases.finish, 'before');
      await each(hosts, async (h) => {
        // Live already: an interrupt from here on must not stop cleanup and unlock halfway.
        const runner = { ...h.runner!, signal: undefined };
        await runStages(runner, phases.finish, h.ctx!).catch((e: unknown) => {
          // The release is live; a failed cleanup is worth a warning, not a failed deploy.
          reporter.log('warn', `cleanup failed: ${(e as Error).message}`, h.alias);
          return runStages(runner, [unlock], h.ctx!, { quiet: true }).catch((lost: unknown) => {
            // Cut off after the switch: say the new release is live, not that it "may" be.
            if (!isDeployError(lost) || lost.code !== 'ECONNLOST') throw lost;
            throw new DeployError('ECONNLOST', { ...lost.details, switched: true });
          });
        });
      });
      await localAfterSwitch(phases.finish, 'after');
    } else if (!reverted) {
      await abortAll(hosts, reporter, signal);
    }
  } finally {
    await pool.closeAll();
  }

  const outcomes: HostOutcome[] = hosts.map((h) => ({
    host: h.alias,
    release: h.switched ? h.ctx?.release : undefined,
    status: h.error ? 'failed' : h.switched ? 'success' : 'skipped',
    durationMs: Date.now() - h.started,
    error: h.error ? { code: h.error.code, message: h.error.message, hint: h.error.hint } : undefined,
  }));
  const errors = hosts.map((h) => h.error).filter((e): e is DeployError => !!e);
  const interrupted = signal?.aborted
    ? new DeployError('EINTERRUPTED', {
        signal: String(signal.reason ?? 'SIGINT'),
        switched: hosts.some((h) => h.switched),
      })
    : undefined;
  const error = interrupted ?? errors.sort((a, b) => b.exitCode - a.exitCode)[0];
  await reporter.end(outcomes);
  return {
    release: hosts.find((h) => h.ctx)?.ctx?.release,
    exitCode: interruptExit(interrupted, signal) ?? error?.exitCode ?? EXIT.ok,
    outcomes,
    error,
  };
}

function interruptExit(e: DeployError | undefined, signal?: AbortSignal): number | undefined {
  if (!e) return undefined;
  return String(signal?.reason) === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
}

export async function readSource(loaded: LoadedConfig): Promise<SourceInfo> {
  const root = loaded.config.source;
  const patterns = await readIgnorePatterns(root, loaded.config.exclude);
  // deploy.yml itself may hold hostnames and paths; it is not part of the application.
  const configRel = path.relative(root, path.resolve(loaded.file));
  if (!configRel.startsWith('..')) patterns.push(`/${configRel}`);
  const entries = await scanSource(root, patterns);
  return { root, entries, revision: await readRevision(root) };
}

/** After a partial switch, hosts already switched go back to what they had, so the fleet never runs mixed releases. */
async function switchBack(hosts: HostRun[], reporter: Reporter): Promise<void> {
  for (const h of hosts.filter((x) => x.switched && x.previous)) {
    try {
      await h.runner!.transport.exec({ script: switchCurrent(h.ctx!.paths, h.previous!).text });
      h.switched = false;
      h.error ??= new DeployError('ESTAGE', {
        host: h.alias,
        stage: 'symlink',
        exitCode: 0,
        command: 'switched back because another host failed to switch',
        stderr: '',
      });
      reporter.log('warn', `switched back to ${h.previous} because another host failed`, h.alias);
    } catch (e) {
      reporter.log('error', `could not switch back: ${(e as Error).message}`, h.alias);
    }
  }
}

/**
 * Nothing switched: remove each created release, log it failed, release our locks.
 * Unlock is safe on every host: it only removes a lock holding this run's token. Never throws.
 */
async function abortAll(hosts: HostRun[], reporter: Reporter, signal?: AbortSignal): Promise<void> {
  const reason = signal?.aborted ? `interrupted (${String(signal.reason)})` : 'failed before the switch';
  await Promise.all(
    hosts.map(async (h) => {
      if (!h.runner || !h.hostCtx || h.switched) return;
      const runner = { ...h.runner, signal: undefined };
      try {
        if (h.created && h.ctx) {
          const why = h.error ? `${h.error.code}: ${h.error.message.split('\n')[0]}` : reason;
          await runStages<ReleaseContext & { reason: string }>(runner, [discard, unlock], {
            ...h.ctx,
            reason: why,
          });
        } else await runStages(runner, [unlock], h.hostCtx);
      } catch (e) {
        // Typically a lost connection: the lock cannot be released from here, so say how to.
        reporter.log(
          'error',
          `cleanup after failure did not finish: ${(e as Error).message}; the lock may still be held: check with \`deploy lock status ${h.alias}\`, remove it with \`deploy unlock ${h.alias}\``,
          h.alias,
        );
      }
    }),
  );
}

export function toDeployError(e: unknown, host: string): DeployError {
  if (isDeployError(e)) return e;
  return new DeployError('ESTAGE', {
    host,
    stage: 'local',
    exitCode: 1,
    command: '(local)',
    stderr: (e as Error)?.stack ?? String(e),
  });
}
