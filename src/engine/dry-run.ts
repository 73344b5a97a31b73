import type { LoadedConfig } from '../config/load.js';
import { EXIT } from '../definitions/exit-codes.js';
import { worstExit } from './exit-status.js';
import type { DeployError } from '../definitions/errors.js';
import { resolveAppPersistence, type AppPersistence } from '../persistence/app-persistence.js';
import { prepareUpload } from './prepare-upload.js';
import { changeOf, recordKey, sameByText } from './unchanged.js';
import { releaseShape } from '../layout/release-shape.js';
import { probe } from '../stages/probe.js';
import type { HostContext, ReleaseContext, Stage } from '../stages/types.js';
import { composeScript } from './compose.js';
import { readSource, toDeployError } from './deploy.js';
import { runStages } from './executor.js';
import { healthcheckFor } from './health.js';
import { healthcheckStage } from '../stages/healthcheck.js';
import { hookBook, type HookBook } from './hooks.js';
import { deployPhases, finishJoinsSwitch, linkJoinsUpload, sentPhases } from './hooks-phases.js';
import { mayPull } from './plan-fetch.js';
import { withHostSessions, type SessionOptions } from './host-session.js';
import { releaseDir } from '../layout/paths.js';
import { nextReleaseName } from '../layout/release-log.js';
import { liveRelease, parseRemoteState } from '../layout/remote-state.js';

/** One step of the plan as a person reads it, in the order a deploy runs them. */
export interface PlannedStep {
  /** A stage of ours, a deploy.yml hook on the host, a recipe's command, or a step on this machine. */
  kind: 'stage' | 'hook' | 'recipe' | 'local';
  /** The stage id (`symlink`, `before:symlink`), or `before:upload` for a local step. */
  id: string;
  /** The stage's title, or the command of a hook, recipe or local step. */
  text: string;
  /** What a stage sends to the host, command by command (-vv); none for a local step. */
  commands: string[];
}

interface PlannedPhase {
  phase: string;
  stages: { id: string; title: string }[];
  /** Exactly the script the real run would send as one exec request (empty for local steps). */
  script: string;
  /** `local: true` steps that would run on this machine around this phase. */
  local: string[];
  /** The phase in the order it runs: local steps before, stages with their hooks, local steps after. */
  steps: PlannedStep[];
}

/** What the release would link from shared/. */
export interface PlannedShared {
  dirs: string[];
  files: { path: string; optional: boolean }[];
  /** Entries of public_dir shared one by one, when the recipe or deploy.yml sets one. */
  publicDir?: string;
}

/** What the upload would send to one host, and what it would drop from the previous release. */
export interface PlannedUpload {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  /** Paths to send, in upload order. */
  send: string[];
  /** Top-most paths of the previous release that the new one drops or replaces. */
  remove: string[];
  kept: number;
  /**
   * When the release is a pruned one renamed into place: the top-most paths removed from it and
   * the files linked into it again from the previous release, before the files arrive.
   */
  spare?: { remove: string[]; link: string[] };
}

export interface DryRunHost {
  host: string;
  release?: string;
  current?: string;
  upload?: PlannedUpload;
  shared?: PlannedShared;
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

const localSteps = (
  book: HookBook,
  when: 'before' | 'after',
  stages: readonly Stage<never>[],
): PlannedStep[] =>
  stages.flatMap((s) =>
    book
      .local(when, s.id)
      .map((run) => ({ kind: 'local' as const, id: `${when}:${s.id}`, text: run, commands: [] })),
  );

/** A phase's stages as steps: a hook or recipe stage is one step per command, in its own words. */
function phaseSteps<C extends HostContext>(
  book: HookBook,
  stages: readonly Stage<C>[],
  ctx: C,
): PlannedStep[] {
  const remote = stages.flatMap((st): PlannedStep[] => {
    const commands = st.plan(ctx).map((c) => c.text);
    if (!st.streams) return [{ kind: 'stage', id: st.id, text: st.title, commands }];
    const kind = st.id.includes(':') ? ('hook' as const) : ('recipe' as const);
    return (st.shown?.(ctx) ?? commands).map((text, i) => ({
      kind,
      id: st.id,
      text,
      commands: [commands[i] ?? ''],
    }));
  });
  const asNever = stages as unknown as readonly Stage<never>[];
  return [...localSteps(book, 'before', asNever), ...remote, ...localSteps(book, 'after', asNever)];
}

function plannedShared(p: AppPersistence): PlannedShared {
  return {
    dirs: p.shared_dirs,
    files: p.shared_files.map((f) => ({ path: f.path, optional: f.optional })),
    publicDir: p.public_dir ?? undefined,
  };
}

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
          shape: releaseShape(s.ctx.config, s.ctx.alias, s.ctx.host),
          sourceKey: config.skip_unchanged ? recordKey(source, persistence) : undefined,
        };
        const notes = [...persistence.warnings];
        const builds = localAround(book, [...phases.prepare, ...phases.upload] as readonly Stage<never>[]);
        if (builds.some((l) => l.startsWith('before ')))
          notes.push(
            'local build steps do not run in a dry run: the upload below is the source as it is now',
          );
        const choice = await prepareUpload(ctx);
        // The dry run shows the release a deploy would make, spare included, unchanged or not.
        const { plan, notice } = choice.complete?.() ?? choice;
        ctx.upload = plan;
        // What it hashed is kept for the deploy that follows (a deploy writes the cache once it uploaded).
        await plan.cache?.save();
        notes.push(notice.message);
        const count = (t: string) => plan.send.filter((e) => e.type === t).length;
        const upload: PlannedUpload = {
          files: count('file'),
          dirs: count('dir'),
          symlinks: count('symlink'),
          bytes: plan.send.reduce((n, e) => n + e.size, 0),
          send: plan.send.map((e) => e.path),
          remove: [...(plan.againstBase ?? plan).remove],
          kept: plan.kept.size,
          ...(plan.againstBase ? { spare: { remove: [...plan.remove], link: [...plan.link] } } : {}),
        };
        if (config.skip_unchanged) {
          // The changes stage does not run in a dry run (it copies what it finds): assumed none.
          const found = changeOf(ctx, liveRelease(remote), false);
          notes.push(
            'change' in found
              ? `skip_unchanged: a release would be made: ${found.change}`
              : `skip_unchanged: release ${liveRelease(remote)} already holds this source, REVISION and deploy.yml (${sameByText(found.same)}); no release would be made if every host is alike and nothing in it was changed on the server`,
          );
        }
        if (remote.lock) notes.push('the host is locked now: the real deploy would stop at `lock` (exit 3)');
        const check = healthcheckFor(config, s.host);
        // As the run sends them: the link phase in the upload phase's script when nothing runs
        // between and no host may pull (whether one does is known only once the store is asked);
        // the finish phase in the switch phase's script for one host with no health check.
        const sent = sentPhases(phases, {
          link: linkJoinsUpload(book, phases, mayPull(config, sessions)),
          finish: finishJoinsSwitch(
            book,
            phases,
            sessions.length,
            sessions.some((o) => healthcheckFor(config, o.host)),
          ),
        });
        const planned: PlannedPhase[] = sent.map(([phase, stages]) => {
          const list = stages as readonly Stage<HostContext>[];
          const input = (st: Stage<HostContext>) => {
            const i = st.input?.(ctx);
            return i && { into: i.into, bytes: Buffer.byteLength(i.text) };
          };
          return {
            phase,
            stages: list.map(({ id, title }) => ({ id, title })),
            script: composeScript(list.map((st) => ({ id: st.id, commands: st.plan(ctx), input: input(st) })))
              .text,
            local: localAround(book, list as readonly Stage<never>[]),
            steps: phaseSteps(book, list, ctx),
          };
        });
        if (check) {
          const st =
            check.command !== undefined ? healthcheckStage({ ...check, command: check.command }) : undefined;
          const at = planned.findIndex((p) => p.phase === 'switch') + 1;
          planned.splice(at, 0, {
            phase: 'healthcheck',
            stages: [{ id: 'healthcheck', title: 'Check the new release' }],
            script: st ? composeScript([{ id: st.id, commands: st.plan(ctx) }]).text : '',
            local: [],
            steps: [
              st
                ? {
                    kind: 'stage',
                    id: st.id,
                    text: `${st.title}: ${check.command}`,
                    commands: st.plan(ctx).map((c) => c.text),
                  }
                : {
                    kind: 'local',
                    id: 'healthcheck',
                    text: `GET ${check.url}, expecting ${check.expect_status}`,
                    commands: [],
                  },
            ],
          });
        }
        for (const event of ['success', 'failure'] as const) {
          const steps = [
            ...book
              .remote('after', event, s.alias)
              .map((text) => ({ kind: 'hook' as const, id: `after:${event}`, text, commands: [] })),
            ...book
              .local('after', event)
              .map((text) => ({ kind: 'local' as const, id: `after:${event}`, text, commands: [] })),
          ];
          if (steps.length) planned.push({ phase: `on ${event}`, stages: [], script: '', local: [], steps });
        }
        return {
          host: s.alias,
          release: name,
          current: liveRelease(remote),
          upload,
          shared: plannedShared(persistence),
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
