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

/** What the upload would send to one host, and what it would drop from the previous release. */
export interface PlannedUpload {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  /** Paths to send, in upload order. */
  send: string[];
  /** Top-most paths removed from the seeded release before the files arrive. */
  remove: string[];
  kept: number;
}

export interface DryRunHost {
  host: string;
  release?: string;
  current?: string;
  upload?: PlannedUpload;
  phases: PlannedPhase[];
  notes: string[];
  error?: DeployError;
}

/** The source as the deploy would read it (without running local build steps). */
export interface PlannedSource {
  root: string;
  revision?: string;
  files: number;
  /** Left out by git's ignore rules (an ignored directory once). */
  ignored: string[];
  /** Uncommitted changes the upload would carry. */
  changes: string[];
}

export interface DryRunResult {
  exitCode: number;
  source: PlannedSource;
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
  const persistence = await resolveAppPersistence(config, source.entries, undefined, source);
  const sourcePlan: PlannedSource = {
    root: source.artifact ? `artifact ${source.artifact.id} in ${source.artifact.store.label}` : source.root,
    revision: source.revision,
    files: source.entries.filter((e) => e.type === 'file').length,
    ignored: [...(source.git?.ignored ?? [])],
    changes: (source.git?.changes ?? []).map((c) => `${c.path} (${c.kind})`),
  };
  const result = await withHostSessions({ ...o, command: 'deploy --dry-run' }, async (sessions) => {
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
        const builds = localAround(book, [...phases.prepare, ...phases.upload] as readonly Stage<never>[]);
        if (builds.some((l) => l.startsWith('before ')))
          notes.push(
            'local build steps do not run in a dry run: the upload below is the source as it is now',
          );
        const { plan, notice } = await prepareUpload(ctx);
        ctx.upload = plan;
        notes.push(notice.message);
        const count = (t: string) => plan.send.filter((e) => e.type === t).length;
        const upload: PlannedUpload = {
          files: count('file'),
          dirs: count('dir'),
          symlinks: count('symlink'),
          bytes: plan.send.reduce((n, e) => n + e.size, 0),
          send: plan.send.map((e) => e.path),
          remove: [...plan.remove],
          kept: plan.kept.size,
        };
        if (remote.lock) notes.push('the host is locked now: the real deploy would stop at `lock` (exit 3)');
        const check = healthcheckFor(config, s.host);
        const planned: PlannedPhase[] = Object.entries(phases).map(([phase, stages]) => {
          const list = stages as readonly Stage<HostContext>[];
          return {
            phase,
            stages: list.map(({ id, title }) => ({ id, title })),
            script: composeScript(list.map((st) => ({ id: st.id, commands: st.plan(ctx) }))).text,
            local: localAround(book, list as readonly Stage<never>[]),
          };
        });
        if (check?.command !== undefined) {
          const st = healthcheckStage({ ...check, command: check.command });
          const at = planned.findIndex((p) => p.phase === 'switch') + 1;
          planned.splice(at, 0, {
            phase: 'healthcheck',
            stages: [{ id: st.id, title: st.title }],
            script: composeScript([{ id: st.id, commands: st.plan(ctx) }]).text,
            local: [],
          });
        } else if (check?.url)
          notes.push(`after the switch: GET ${check.url}, expecting ${check.expect_status}`);
        return {
          host: s.alias,
          release: name,
          current: liveRelease(remote),
          upload,
          phases: planned,
          notes,
        };
      }),
    );
    const exitCode = worstExit(hosts.map((h) => h.error?.exitCode ?? EXIT.ok));
    return { exitCode, hosts };
  });
  return { ...result, source: sourcePlan };
}
