import { configMask } from '../config/secrets.js';
import {
  DeployError,
  isDeployError,
  shownError,
  toDeployError,
  type ShownError,
} from '../definitions/errors.js';
import { lock } from '../stages/lock.js';
import { probeState } from '../stages/probe.js';
import { rollbackSwitch, type RollbackContext } from '../stages/rollback.js';
import { integrity, type IntegrityContext } from '../stages/integrity.js';
import { unlock } from '../stages/unlock.js';
import {
  basePersistence,
  configOnlyPersistence,
  type AppPersistence,
} from '../persistence/app-persistence.js';
import { runStages } from './executor.js';
import { interruption, worstError } from './exit-status.js';
import { hookBook, withHooks } from './hooks.js';
import { hostRunContext, localRunContext, type RunContext } from './hook-env.js';
import { finishRun, shared } from './events.js';
import { runLocalHooks } from './hooks-local.js';
import { withHostSessions, type HostSession, type SessionOptions } from './host-session.js';
import { releaseDir } from '../layout/paths.js';
import { missingNote, missingReleases } from './missing-releases.js';
import { liveRelease, parseRemoteState } from '../layout/remote-state.js';
import { chooseRollbackTarget } from './rollback-target.js';
import type { HostOutcome } from './reporter.js';
import { switchBackAll } from './switch-back.js';
import { passedSwitch } from './switch-point.js';
import { EXIT } from '../definitions/exit-codes.js';
import type { Config } from '../config/schema.js';

export interface RollbackOptions extends Omit<SessionOptions, 'command'> {
  to?: string;
  force?: boolean;
  command?: string;
  /** false inside a rolling deploy, whose own notification says what happened. */
  notify?: boolean;
}

interface RollbackHostResult {
  host: string;
  /** The release `current` pointed to before, and after, the command. */
  from?: string;
  to?: string;
  status: 'rolled_back' | 'failed' | 'skipped';
  error?: ShownError;
}

export interface RollbackResult {
  exitCode: number;
  hosts: RollbackHostResult[];
  error?: DeployError;
}

interface HostRollback extends HostSession {
  rb?: IntegrityContext;
  /** `current` points at the rollback target. */
  switched: boolean;
  /** This run's lock is gone: the switch script, or a switch back, ended with the unlock. */
  unlocked: boolean;
  started: number;
  /** What `current` pointed to when we read the host, even if it has nothing to roll back to. */
  live?: string;
}

/** What hooks after rollback see: the release live now, the one left. */
const rollbackContext = (ctx: IntegrityContext): RunContext => ({
  ...hostRunContext(ctx),
  release: ctx.target,
  releasePath: ctx.releasePath,
  previousRelease: ctx.left,
  status: 'rolled_back',
});

/** The rollback stage renames over `current` in its first command; its log line comes after. */
const ROLLBACK_SWITCH = { stage: rollbackSwitch.id, index: 0 };

/**
 * What of a release the app may change (shared, writable, ephemeral paths): the integrity check
 * leaves those out. From the recipe detected in the source, as a deploy would; deploy.yml's lists
 * alone when the source is not at hand (a rollback from another checkout).
 */
function rollbackPersistence(config: Config): AppPersistence {
  try {
    return basePersistence(config);
  } catch {
    return configOnlyPersistence(config);
  }
}

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
      switched: false,
      unlocked: false,
      started: Date.now(),
    }));
    const book = hookBook(o.loaded.config, sessions);
    const phase2 = [
      integrity,
      ...withHooks<IntegrityContext>([rollbackSwitch], book, rollbackContext),
      unlock,
    ];
    const persistence = rollbackPersistence(o.loaded.config);
    reporter.begin(
      hosts.map((h) => h.alias),
      [lock, probeState, ...phase2].map(({ id, title }) => ({ id, title })),
      'rolling back',
    );
    const startedAt = Date.now();
    const mask = configMask(o.loaded, o.env);
    const localContext = () =>
      localRunContext(
        hosts.map((h) => (h.rb ? rollbackContext(h.rb) : hostRunContext(h.ctx))) as [
          RunContext,
          ...RunContext[],
        ],
      );
    const localOpts = () => ({
      cwd: o.loaded.config.source,
      reporter,
      signal,
      mask,
      context: localContext(),
    });
    const proceeding = () => hosts.every((h) => !h.error) && !signal?.aborted;
    const each = (list: HostRollback[], fn: (h: HostRollback) => Promise<void>) =>
      Promise.all(list.map((h) => fn(h).catch((e: unknown) => void (h.error ??= toDeployError(e, h.alias)))));

    await each(
      hosts.filter((h) => !h.error),
      async (h) => {
        const out = await runStages(h.runner, [lock, probeState], h.ctx);
        const remote = parseRemoteState(out.stdout);
        h.live = liveRelease(remote);
        const missing = missingReleases(remote);
        if (missing.length) reporter.log('warn', `${missingNote(missing)}; not a rollback target`, h.alias);
        const choice = chooseRollbackTarget(h.alias, remote, o);
        h.rb = {
          ...h.ctx,
          remote,
          ...choice,
          releasePath: releaseDir(h.ctx.paths, choice.target),
          persistence,
          force: o.force,
        };
      },
    );

    if (proceeding()) {
      await runLocalHooks(book, [rollbackSwitch], 'before', localOpts()).catch((e: unknown) => {
        for (const h of hosts) h.error ??= toDeployError(e, h.alias);
      });
    }
    if (proceeding()) {
      await each(hosts, async (h) => {
        // Proceeding means every host was read, and so has its target.
        if (!h.rb)
          throw new DeployError('EINTERNAL', { host: h.alias, reason: 'no rollback target was chosen' });
        try {
          await runStages({ ...h.runner, signal: undefined }, phase2, h.rb);
          h.switched = true;
          h.unlocked = true;
        } catch (e) {
          h.switched = passedSwitch(e, ROLLBACK_SWITCH);
          throw e;
        }
      });
      if (hosts.some((h) => h.error && !h.switched)) await undoSwitched(hosts, book, reporter);
      else if (hosts.every((h) => h.switched)) {
        await runLocalHooks(book, [rollbackSwitch], 'after', localOpts()).catch((e: unknown) =>
          reporter.log('warn', `local hook after rollback failed: ${(e as Error).message}`),
        );
      }
    }

    // Every reached host, whatever happened: the lock script may have taken the lock before
    // failing or being interrupted. Unlock only removes a lock holding this run's token.
    await Promise.all(
      hosts
        .filter((h) => h.runner.transport && !h.unlocked)
        .map((h) =>
          runStages({ ...h.runner, signal: undefined }, [unlock], h.ctx, { quiet: true }).catch(
            (e: unknown) =>
              reporter.log('error', `could not release the lock: ${(e as Error).message}`, h.alias),
          ),
        ),
    );

    // Cut off once the switch had begun: nobody knows where `current` is, so no row says "still on".
    const unknown = (h: HostRollback) =>
      !h.switched && isDeployError(h.error, 'ECONNLOST') && h.error.details.switchMaybe === true;
    const rows = hosts.map((h) => {
      const r: RollbackHostResult = {
        host: h.alias,
        from: h.live,
        to: h.switched ? h.rb?.target : unknown(h) ? undefined : h.live,
        status: h.switched ? 'rolled_back' : h.error ? 'failed' : 'skipped',
        error: h.error && shownError(h.error),
      };
      return { h, r };
    });
    const results = rows.map(({ r }) => r);
    const outcomes: HostOutcome[] = rows.map(({ h, r }) => ({
      host: h.alias,
      release: r.to,
      previous: h.live,
      // A host that failed but still runs what it ran is not a failed release: say it is unchanged.
      status: r.status === 'failed' && h.live && !unknown(h) ? 'unchanged' : r.status,
      durationMs: Date.now() - h.started,
      error: r.error,
    }));
    const stopped = interruption(
      signal,
      hosts.some((h) => h.switched),
      { selector: [o.selector ?? []].flat() },
    );
    const error = stopped?.error ?? worstError(hosts.map((h) => h.error));
    if (o.notify !== false) {
      await finishRun({
        config: o.loaded.config,
        book,
        event: 'rollback',
        outcomes,
        selector: [o.selector ?? []].flat().join(' ') || (o.loaded.config.default_selector ?? ''),
        release: shared(results.map((r) => r.to)),
        error,
        context: localContext(),
        ci: hosts[0]?.ctx.run.ci,
        startedAt,
        cwd: o.loaded.config.source,
        reporter,
        mask,
      });
    }
    await reporter.end(outcomes);
    return { exitCode: stopped?.exitCode ?? error?.exitCode ?? EXIT.ok, hosts: results, error };
  });
}

/**
 * Another host could not switch: the ones that did go back to the release they left, and the
 * log line that marked it rolled back is superseded by its earlier state. Never throws.
 */
async function undoSwitched(
  hosts: HostRollback[],
  book: ReturnType<typeof hookBook>,
  reporter: SessionOptions['reporter'],
): Promise<void> {
  const back = hosts.flatMap((h) => (h.switched && h.rb?.left ? [{ h, rb: h.rb, left: h.rb.left }] : []));
  const results = await switchBackAll(
    back.map(({ h, rb, left }) => ({
      alias: h.alias,
      runner: h.runner,
      ctx: {
        ...rb,
        leaving: rb.target,
        previous: left,
        entry: rb.remote.history.get(left),
        releasePath: releaseDir(h.ctx.paths, left),
      },
      rolledBack: h,
    })),
    book,
    reporter,
  );
  for (const [{ rolledBack: h, ctx }, r] of results) {
    h.unlocked = true;
    if (!r.ok) {
      h.error = r.error;
      continue;
    }
    const reason = `switched back to ${ctx.previous} because another host could not roll back`;
    h.switched = false;
    h.error ??= new DeployError('ENOROLLBACK', { host: h.alias, reason });
    reporter.log('warn', reason, h.alias);
  }
}
