import type { Step } from '../config/hooks-schema.js';
import type { Config } from '../config/schema.js';
import type { HookWhen } from '../definitions/hook-points.js';
import type { AppPersistence } from '../persistence/app-persistence.js';
import type { Stage } from '../stages/types.js';
import { healthcheckFor } from './health.js';
import { flatten, type Filter } from './hooks.js';
import { DEPLOY } from './pipeline.js';

/** One line of `deploy list`: a stage of ours, a deploy.yml step, a recipe's command, the health check. */
export interface ListedStep {
  kind: 'stage' | 'hook' | 'local' | 'recipe' | 'check';
  /** The stage id, or where a step runs: `before symlink`, `after success`. */
  at: string;
  text: string;
  /** once, hosts: …, labels: … as written (a task's filters included). */
  filters: string[];
}

export interface Listing {
  phases: { phase: string; steps: ListedStep[] }[];
  /** hooks.after.success and .failure, then the rollback hooks. */
  events: { event: string; steps: ListedStep[] }[];
  tasks: { name: string; steps: ListedStep[] }[];
}

function describeFilters(filters: readonly Filter[]): string[] {
  return filters.flatMap((f) => [
    ...(f.once ? ['once'] : []),
    ...(f.hosts ? [`hosts: ${f.hosts.join(', ')}`] : []),
    ...(f.labels
      ? [
          `labels: ${Object.entries(f.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}`,
        ]
      : []),
  ]);
}

function steps(config: Config, list: readonly Step[] | undefined, at: string): ListedStep[] {
  return flatten(list ?? [], config.tasks).map((s) => ({
    kind: s.local ? 'local' : 'hook',
    at,
    text: s.run,
    filters: describeFilters(s.filters),
  }));
}

const hooksAt = (config: Config, when: HookWhen, point: string): ListedStep[] =>
  steps(config, (config.hooks[when] as Record<string, Step[] | undefined>)[point], `${when} ${point}`);

/**
 * What a deploy runs, in order, as `dep tree` shows it: per phase its stages with the deploy.yml
 * hooks around each and the recipe's commands in their stage, the health check, the event hooks,
 * then every task. Pure: from the configuration and the recipe, without any host.
 */
export function listPlan(config: Config, persistence: AppPersistence): Listing {
  const phases = Object.entries(DEPLOY).map(([phase, stages]) => ({
    phase,
    steps: (stages as readonly Stage<never>[]).flatMap((stage): ListedStep[] => {
      // A recipe stage's commands are read from the recipe alone (its `shown` needs nothing else).
      const recipe = stage.streams
        ? (stage.shown?.({ config, persistence } as never) ?? []).map((text): ListedStep => ({
            kind: 'recipe',
            at: stage.id,
            text,
            filters: [],
          }))
        : [];
      if (stage.streams && recipe.length === 0) return [];
      return [
        ...hooksAt(config, 'before', stage.id),
        ...(recipe.length
          ? recipe
          : [{ kind: 'stage' as const, at: stage.id, text: stage.title, filters: [] }]),
        ...hooksAt(config, 'after', stage.id),
      ];
    }),
  }));
  const checks = Object.entries(config.hosts).map(([alias, host]) => ({
    alias,
    check: healthcheckFor(config, host),
  }));
  const checked = checks.flatMap(({ alias, check }) => (check ? [{ alias, check }] : []));
  const c = checked[0]?.check;
  if (c) {
    const everywhere =
      checked.length === checks.length ? [] : [`hosts: ${checked.map((x) => x.alias).join(', ')}`];
    phases.push({
      phase: 'healthcheck',
      steps: [
        {
          kind: 'check',
          at: 'healthcheck',
          text: c.url ? `GET ${c.url} (from this machine), expecting ${c.expect_status}` : `${c.command}`,
          filters: everywhere,
        },
      ],
    });
  }
  return {
    phases,
    events: [
      { event: 'after success', steps: hooksAt(config, 'after', 'success') },
      { event: 'after failure', steps: hooksAt(config, 'after', 'failure') },
      { event: 'before rollback', steps: hooksAt(config, 'before', 'rollback') },
      { event: 'after rollback', steps: hooksAt(config, 'after', 'rollback') },
    ],
    tasks: Object.entries(config.tasks).map(([name, list]) => ({ name, steps: steps(config, list, name) })),
  };
}
