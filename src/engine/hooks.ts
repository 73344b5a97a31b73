import type { Step } from '../config/hooks-schema.js';
import type { Config, HostConfig } from '../config/schema.js';
import { streamedCommand } from '../remote/script-stdin.js';
import type { ShellText } from '../remote/sh.js';
import type { HostContext, Stage } from '../stages/types.js';
import { BEFORE_RELEASE_DIR, type HookStage, type HookWhen } from '../definitions/hook-points.js';
import { hookEnv, hostRunContext, type RunContext } from './hook-env.js';

export interface Filter {
  once: boolean;
  hosts?: string[];
  labels?: Record<string, string>;
}

/** A step with its task nesting flattened: every filter on the way down must pass. */
export interface FlatStep {
  run: string;
  local: boolean;
  filters: Filter[];
}

/** A step resolved against a run's selection: the hosts it runs on (for a local step: whether any). */
export interface ResolvedStep {
  run: string;
  local: boolean;
  hosts: string[];
}

export interface HookBook {
  /** Remote commands of one hook point for one host, in order. */
  remote(when: HookWhen, stage: string, alias: string): string[];
  /** Commands to run on this machine, once per deploy. */
  local(when: HookWhen, stage: string): string[];
  /** Whether any selected host has remote steps at this point. */
  hasRemote(when: HookWhen, stage: string): boolean;
}

export function flatten(steps: readonly Step[], tasks: Config['tasks'], outer: Filter[] = []): FlatStep[] {
  return steps.flatMap((step): FlatStep[] => {
    if (typeof step === 'string') return [{ run: step, local: false, filters: outer }];
    const filters = [...outer, { once: step.once, hosts: step.hosts, labels: step.labels }];
    if ('task' in step) return flatten(tasks[step.task] ?? [], tasks, filters);
    return [{ run: step.run, local: step.local, filters }];
  });
}

const passes = (f: Filter, alias: string, host: HostConfig): boolean =>
  (!f.hosts || f.hosts.includes(alias)) &&
  Object.entries(f.labels ?? {}).every(([k, v]) => host.labels[k] === v);

/** The selected hosts a step runs on: all that pass its filters, or the first of them if `once`. */
function hostsOf(step: FlatStep, selection: readonly { alias: string; host: HostConfig }[]): string[] {
  const eligible = selection.filter((s) => step.filters.every((f) => passes(f, s.alias, s.host)));
  const once = step.filters.some((f) => f.once);
  return (once ? eligible.slice(0, 1) : eligible).map((s) => s.alias);
}

/** The steps of a list (a hook point, a task), tasks expanded, each with the hosts it runs on. */
export function resolveSteps(
  steps: readonly Step[],
  tasks: Config['tasks'],
  selection: readonly { alias: string; host: HostConfig }[],
): ResolvedStep[] {
  return flatten(steps, tasks).map((step) => ({
    run: step.run,
    local: step.local,
    hosts: hostsOf(step, selection),
  }));
}

/**
 * Resolves `hooks` and `tasks` for one run. Filters are decided here, against the whole
 * selection, because `once` means "the first selected host", which no single host can know.
 */
export function hookBook(
  config: Pick<Config, 'hooks' | 'tasks'>,
  selection: readonly { alias: string; host: HostConfig }[],
  extra: Partial<Record<HookWhen, Partial<Record<string, Step[]>>>> = {},
): HookBook {
  const at = (when: HookWhen, stage: string) =>
    resolveSteps(
      [
        ...((config.hooks[when] as Record<string, Step[] | undefined>)[stage] ?? []),
        ...(extra[when]?.[stage] ?? []),
      ],
      config.tasks,
      selection,
    );
  return {
    remote: (when, stage, alias) =>
      at(when, stage)
        .filter((step) => !step.local && step.hosts.includes(alias))
        .map((step) => step.run),
    local: (when, stage) =>
      at(when, stage)
        .filter((step) => step.local && step.hosts.length > 0)
        .map((step) => step.run),
    hasRemote: (when, stage) => at(when, stage).some((step) => !step.local && step.hosts.length > 0),
  };
}

/**
 * Where a hook of this point runs: the new release once it exists, else deploy_path; after a
 * failed deploy, deploy_path (the release may be gone).
 */
function hookDir(ctx: HostContext, when: HookWhen, stage: string): string {
  const releasePath = (ctx as { releasePath?: string }).releasePath;
  const early =
    BEFORE_RELEASE_DIR.includes(stage) || (when === 'before' && stage === 'release') || stage === 'failure';
  return !early && releasePath ? releasePath : ctx.paths.root;
}

/**
 * One hook command: the user's text as written, in a subshell that keeps its `cd` from leaking
 * into the next stage, with the run's SHIPSHAPE_* variables, in the script's process group (an
 * interrupt kills it with everything else), never in a process's arguments (see userCommand),
 * and its output streamed to the person (see streamedCommand).
 */
export const hookCommand = (dir: string, run: string, env?: Record<string, string>): ShellText =>
  streamedCommand(run, dir, env);

/** How a hook stage learns what it tells its steps; a deploy's hooks by default. */
export type RunContextOf<C> = (ctx: C) => RunContext;

export function hookStage<C extends HostContext>(
  book: HookBook,
  when: HookWhen,
  stage: string,
  context?: RunContextOf<C>,
): Stage<C> {
  const contextOf = context ?? (hostRunContext as RunContextOf<C>);
  return {
    id: `${when}:${stage}`,
    title: `Hooks ${when} ${stage}`,
    streams: true,
    plan: (ctx) => {
      const env = hookEnv(contextOf(ctx));
      return book
        .remote(when, stage, ctx.alias)
        .map((run) => hookCommand(hookDir(ctx, when, stage), run, env));
    },
    shown: (ctx) => book.remote(when, stage, ctx.alias),
  };
}

/** The stages with their hooks around them; a hook point without remote steps adds nothing. */
export function withHooks<C extends HostContext>(
  stages: readonly Stage<C>[],
  book: HookBook,
  context?: RunContextOf<C>,
): Stage<C>[] {
  return stages.flatMap((s) => [
    ...(book.hasRemote('before', s.id) ? [hookStage<C>(book, 'before', s.id, context)] : []),
    s,
    ...(book.hasRemote('after', s.id) ? [hookStage<C>(book, 'after', s.id, context)] : []),
  ]);
}

export type { HookWhen };
