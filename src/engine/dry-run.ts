import type { LoadedConfig } from '../config/load.js';
import { EXIT } from '../definitions/exit-codes.js';
import { worstExit } from './exit-status.js';
import type { DeployError } from '../definitions/errors.js';
import { resolveAppPersistence } from '../persistence/app-persistence.js';
import { prepareUpload } from './prepare-upload.js';
import { probe } from '../stages/probe.js';
import type { HostContext, ReleaseContext, Stage } from '../stages/types.js';
import { composeScript } from './compose.js';
import { readSource, toDeployError } from './deploy.js';
import { runStages } from './executor.js';
import { healthcheckFor } from './health.js';
import { healthcheckStage } from '../stages/healthcheck.js';
import { hookBook, type HookBook } from './hooks.js';
import { deployPhases } from './hooks-phases.js';
import { withHostSessions, type SessionOptions } from './host-session.js';
import { releaseDir } from '../layout/paths.js';
import { nextReleaseName } from '../layout/release-log.js';
import { liveRelease, parseRemoteState } from '../layout/remote-state.js';

export interface PlannedPhase {
  phase: string;
  stages: { id: string; title: string }[];
  /** Exactly the script the real run would send as one exec request (empty for local steps). */
  script: string;
  /** `local: true` steps that would run on this machine around this phase. */
  local: string[];
}

export interface DryRunHost {
  host: string;
  release?: string;
  current?: string;
  phases: PlannedPhase[];
  notes: string[];
  error?: DeployError;
}

export interface DryRunResult {
  exitCode: number;
  hosts: DryRunHost[];
}

const localAround = (book: HookBook, stages: readonly Stage<never>[]): string[] =>
  (['before', 'after'] as const).flatMap((when) =>
    stages.flatMap((s) => book.local(when, s.id).map((run) => `${when} ${s.id}: ${run}`)),
  );

/**
 * `deploy --dry-run`: reads each host with the probe alone (no setup, no lock), then plans the same
 * phases, with the same hooks, as a deploy would, and returns their scripts instead of running them.
 * The lock stage's script is shown as it would be sent; the probe's read happened outside the lock.
 */
export async function dryRun(
  o: Omit<SessionOptions, 'command'> & { loaded: LoadedConfig },
): Promise<DryRunResult> {
  const { config } = o.loaded;
  const source = await readSource(o.loaded);
  const persistence = await resolveAppPersistence(config, source.entries);
  return withHostSessions({ ...o, command: 'deploy --dry-run' }, async (sessions) => {
    const book = hookBook(config, sessions);
    const phases = deployPhases(book);
    const read = await Promise.all(
      sessions.map(async (s) => {
        if (s.error) return { s, error: s.error };
        try {
          const out = await runStages(s.runner, [probe], { ...s.ctx, persistence }, { quiet: true });
          return { s, remote: parseRemoteState(out.stdout) };
        } catch (e) {
          return { s, error: toDeployError(e, s.alias) };
        }
      }),
    );
    const name = nextReleaseName(
      new Date(),
      read.flatMap((r) => r.remote?.releases ?? []),
    );
    const hosts = await Promise.all(
      read.map(async ({ s, remote, error }): Promise<DryRunHost> => {
        if (!remote) return { host: s.alias, phases: [], notes: [], error };
        const ctx: ReleaseContext = {
          ...s.ctx,
          release: name,
          releasePath: releaseDir(s.ctx.paths, name),
          remote,
          source,
          persistence,
        };
        const notes = [...persistence.warnings];
        const { plan, notice } = await prepareUpload(ctx);
        ctx.upload = plan;
        notes.push(notice.message);
        if (remote.lock) notes.push('the host is locked now: the real deploy would stop at `lock` (exit 3)');
        const check = healthcheckFor(config, s.host);
        const planned: PlannedPhase[] = Object.entries(phases).map(([phase, stages]) => {
          const list = stages as readonly Stage<HostContext>[];
          return {
            phase,
            stages: list.map(({ id, title }) => ({ id, title })),
            script: composeScript(list.map((st) => ({ id: st.id, commands: st.plan(ctx) }))),
            local: localAround(book, list as readonly Stage<never>[]),
          };
        });
        if (check?.command !== undefined) {
          const st = healthcheckStage({ ...check, command: check.command });
          const at = planned.findIndex((p) => p.phase === 'switch') + 1;
          planned.splice(at, 0, {
            phase: 'healthcheck',
            stages: [{ id: st.id, title: st.title }],
            script: composeScript([{ id: st.id, commands: st.plan(ctx) }]),
            local: [],
          });
        } else if (check?.url)
          notes.push(`after the switch: GET ${check.url}, expecting ${check.expect_status}`);
        return {
          host: s.alias,
          release: name,
          current: liveRelease(remote),
          phases: planned,
          notes,
        };
      }),
    );
    const exitCode = worstExit(hosts.map((h) => h.error?.exitCode ?? EXIT.ok));
    return { exitCode, hosts };
  });
}
