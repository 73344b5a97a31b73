import { DeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { lock } from '../stages/lock.js';
import { probe } from '../stages/probe.js';
import { rollbackSwitch, type RollbackContext } from '../stages/rollback.js';
import { switchCurrent } from '../stages/symlink.js';
import { appendLog } from '../stages/log-line.js';
import { unlock } from '../stages/unlock.js';
import { runStages } from './executor.js';
import { hookBook, withHooks } from './hooks.js';
import { runLocalHooks } from './hooks-local.js';
import { withHostSessions, type HostSession, type SessionOptions } from './host-session.js';
import { releaseDir } from './paths.js';
import { missingNote, missingReleases } from './missing-releases.js';
import { parseRemoteState } from './remote-state.js';
import { chooseRollbackTarget } from './rollback-target.js';
import type { HostOutcome } from './reporter.js';
import { toDeployError } from './deploy.js';

export interface RollbackOptions extends Omit<SessionOptions, 'command'> {
  to?: string;
  force?: boolean;
  command?: string;
}

export interface RollbackHostResult {
  host: string;
  /** The release `current` pointed to before, and after, the command. */
  from?: string;
  to?: string;
  status: 'rolled_back' | 'failed' | 'skipped';
  error?: { code: string; message: string; hint: string };
}

export interface RollbackResult {
  exitCode: number;
  hosts: RollbackHostResult[];
  error?: DeployError;
}

interface HostRollback extends HostSession {
  rb?: RollbackContext;
  locked: boolean;
  switched: boolean;
  started: number;
  /** What `current` pointed to when we read the host, even if it has nothing to roll back to. */
  live?: string;
}

/** Whether the failed script got past the switch: its stage is known from the failure marker. */
const failedAfterSwitch = (e: unknown): boolean => {
  const stage = (e as { stage?: string }).stage;
  return stage !== undefined && stage !== 'rollback' && !stage.startsWith('before:');
};

/**
 * `deploy rollback`: two scripts per host. The first takes the lock and reads the state; the
 * second switches, logs, runs the hooks and unlocks. No host switches unless every host has a
 * target, so the fleet never ends half rolled back because one host had nothing to go back to.
 */
export async function rollback(o: RollbackOptions): Promise<RollbackResult> {
  const { reporter, signal } = o;
  const command = o.command ?? 'rollback';
  return withHostSessions({ ...o, command }, async (sessions) => {
    const hosts: HostRollback[] = sessions.map((s) => ({
      ...s,
      locked: false,
      switched: false,
      started: Date.now(),
    }));
    const book = hookBook(o.loaded.config, sessions);
    const phase2 = [...withHooks<RollbackContext>([rollbackSwitch], book), unlock];
    reporter.begin(
      hosts.map((h) => h.alias),
      [lock, probe, ...phase2].map(({ id, title }) => ({ id, title })),
    );
    const live = () => hosts.filter((h) => !h.error);
    const each = (list: HostRollback[], fn: (h: HostRollback) => Promise<void>) =>
      Promise.all(list.map((h) => fn(h).catch((e: unknown) => void (h.error ??= toDeployError(e, h.alias)))));

    await each(live(), async (h) => {
      const out = await runStages(h.runner, [lock, probe], h.ctx);
      h.locked = true;
      const remote = parseRemoteState(out.stdout);
      h.live = remote.current.kind === 'link' ? remote.current.release : undefined;
      const missing = missingReleases(remote);
      if (missing.length) reporter.log('warn', `${missingNote(missing)}; not a rollback target`, h.alias);
      const choice = chooseRollbackTarget(h.alias, remote, o);
      h.rb = { ...h.ctx, remote, ...choice, releasePath: releaseDir(h.ctx.paths, choice.target) };
    });

    if (hosts.every((h) => !h.error) && !signal?.aborted) {
      const localOpts = { cwd: o.loaded.config.source, reporter, signal };
      await runLocalHooks(book, [rollbackSwitch], 'before', localOpts).catch((e: unknown) => {
        for (const h of hosts) h.error ??= toDeployError(e, h.alias);
      });
    }
    if (hosts.every((h) => !h.error) && !signal?.aborted) {
      await each(hosts, async (h) => {
        try {
          await runStages({ ...h.runner, signal: undefined }, phase2, h.rb!);
          h.switched = true;
          h.locked = false;
        } catch (e) {
          h.switched = failedAfterSwitch(e);
          throw e;
        }
      });
      if (hosts.some((h) => h.error && !h.switched)) await undoSwitched(hosts, reporter);
      else if (hosts.every((h) => h.switched)) {
        await runLocalHooks(book, [rollbackSwitch], 'after', {
          cwd: o.loaded.config.source,
          reporter,
          signal,
        }).catch((e: unknown) =>
          reporter.log('warn', `local hook after rollback failed: ${(e as Error).message}`),
        );
      }
    }

    await Promise.all(
      hosts
        .filter((h) => h.locked)
        .map((h) =>
          runStages({ ...h.runner, signal: undefined }, [unlock], h.ctx, { quiet: true }).catch(
            (e: unknown) =>
              reporter.log('error', `could not release the lock: ${(e as Error).message}`, h.alias),
          ),
        ),
    );

    const results: RollbackHostResult[] = hosts.map((h) => ({
      host: h.alias,
      from: h.live,
      to: h.switched ? h.rb?.target : h.live,
      status: h.switched ? 'rolled_back' : h.error ? 'failed' : 'skipped',
      error: h.error && { code: h.error.code, message: h.error.message, hint: h.error.hint },
    }));
    const outcomes: HostOutcome[] = hosts.map((h, i) => ({
      host: h.alias,
      release: results[i]!.to,
      status: results[i]!.status,
      durationMs: Date.now() - h.started,
      error: results[i]!.error,
    }));
    await reporter.end(outcomes);
    const interrupted = signal?.aborted
      ? new DeployError('EINTERRUPTED', {
          signal: String(signal.reason),
          switched: hosts.some((h) => h.switched),
        })
      : undefined;
    const error = interrupted ?? hosts.map((h) => h.error).find((e) => e);
    const exitCode = interrupted
      ? String(signal?.reason) === 'SIGTERM'
        ? EXIT.sigterm
        : EXIT.sigint
      : (error?.exitCode ?? EXIT.ok);
    return { exitCode, hosts: results, error };
  });
}

/**
 * Another host could not switch: the ones that did go back to the release they left, and the
 * log line that marked it rolled back is superseded by its earlier state. Never throws.
 */
async function undoSwitched(hosts: HostRollback[], reporter: SessionOptions['reporter']): Promise<void> {
  for (const h of hosts.filter((x) => x.switched && x.rb?.left)) {
    const { paths, left, remote } = h.rb!;
    const restore = remote.history.get(left!);
    const script = [switchCurrent(paths, left!), ...(restore ? [appendLog(paths.log, restore)] : [])]
      .map((c) => c.text)
      .join(' && ');
    try {
      const r = await h.runner.transport.exec({ script });
      if (r.code !== 0) throw new Error(r.stderr.trim() || `exit ${r.code}`);
      h.switched = false;
      h.error ??= new DeployError('ENOROLLBACK', {
        host: h.alias,
        reason: `switched back to ${left} because another host could not roll back`,
      });
      reporter.log('warn', `switched back to ${left} because another host could not roll back`, h.alias);
    } catch (e) {
      reporter.log(
        'error',
        `still on ${h.rb!.target}; could not switch back to ${left}: ${(e as Error).message}`,
        h.alias,
      );
    }
  }
}
