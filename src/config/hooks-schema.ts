import { z } from 'zod';
import { HOOK_EVENTS, HOOK_STAGES } from '../definitions/hook-points.js';

const taskName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9:_.-]*$/, { message: 'use letters, digits, `:`, `.`, `_` and `-`' });

const filters = {
  once: z
    .boolean()
    .default(false)
    .describe('Run on the first selected host only (e.g. database migrations).'),
  hosts: z.array(z.string().min(1)).optional().describe('Run only on these host aliases.'),
  labels: z
    .record(z.string(), z.string())
    .optional()
    .describe('Run only on hosts whose labels include all of these.'),
};

const stepSchema = z.union(
  [
    z
      .string()
      .min(1)
      .describe(
        'A remote command, run with /bin/sh in the release directory. `${VAR}` is the shell’s (the server’s) variable; `${{ env.VAR }}` is this machine’s, masked in output.',
      ),
    z
      .strictObject({
        run: z
          .string()
          .min(1)
          .describe('The command (`${VAR}` is the shell’s, `${{ env.VAR }}` this machine’s).'),
        local: z
          .boolean()
          .default(false)
          .describe('Run on this machine in `source` (e.g. `npm run build` before upload), once per deploy.'),
        ...filters,
      })
      .describe('A command with options.'),
    z
      .strictObject({
        task: taskName.describe('Name of a list under `tasks` to run here.'),
        ...filters,
      })
      .describe('Runs a named task; its filters apply on top of the task steps’ own.'),
  ],
  {
    error:
      'must be a command (a string) or a mapping with either `run: <command>` or `task: <task name>` (and options such as `once`, `hosts`)',
  },
);

export type Step = z.output<typeof stepSchema>;

const stepList = z.array(stepSchema);

type Points<K extends string> = Record<K, z.ZodOptional<typeof stepList>>;
const stagePoints = (when: string) =>
  Object.fromEntries(
    HOOK_STAGES.map((stage) => [stage, stepList.optional().describe(`Steps run ${when} \`${stage}\`.`)]),
  ) as Points<(typeof HOOK_STAGES)[number]>;

const EVENT_WHEN: Record<(typeof HOOK_EVENTS)[number], string> = {
  success: 'once a deploy went through on every host (after the unlock), in the new release',
  failure:
    'once a deploy failed, was interrupted or switched back, on every host still reachable, in deploy_path; SHIPSHAPE_ERROR says why',
};
const eventPoints = Object.fromEntries(
  HOOK_EVENTS.map((event) => [
    event,
    stepList
      .optional()
      .describe(
        `Steps run ${EVENT_WHEN[event]}. A failing step is reported and never changes the exit code.`,
      ),
  ]),
) as Points<(typeof HOOK_EVENTS)[number]>;

// Strict objects rather than records, so an unknown stage gets the loader's "did you mean".
export const hooksSchema = z
  .strictObject({
    before: z
      .strictObject(stagePoints('before'))
      .default({})
      .describe('Steps run before the named stage, in list order.'),
    after: z
      .strictObject({ ...stagePoints('after'), ...eventPoints })
      .default({})
      .describe(
        'Steps run after the named stage, in list order, and at the end of a deploy by its outcome (`success`, `failure`).',
      ),
  })
  .default({ before: {}, after: {} })
  .describe(
    'Steps around stages: `hooks.before.symlink`, `hooks.after.rollback`, `hooks.after.failure`, …; they see the release in SHIPSHAPE_* variables.',
  );

export const tasksSchema = z
  .record(taskName, stepList)
  .default({})
  .describe(
    'Named step lists: run with `deploy task <name> [selector]` (in `current`, under the lock), or from hooks with `{ task: <name> }`.',
  );

const URL_OR_COMMAND = 'set exactly one of `url` and `command`';

export const healthcheckSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Fetched from the deploying machine after the switch.'),
    command: z
      .string()
      .min(1)
      .optional()
      .describe('Run on the host in the new release after the switch; exit 0 is healthy.'),
    expect_status: z
      .number()
      .int()
      .min(100)
      .max(599)
      .default(200)
      .describe('HTTP status a `url` check expects.'),
    timeout: z.number().positive().default(5).describe('Seconds one attempt may take.'),
    retries: z.number().int().min(0).default(3).describe('Further attempts after a failed one.'),
    interval: z.number().min(0).default(2).describe('Seconds between attempts.'),
  })
  .refine((h) => (h.url === undefined) !== (h.command === undefined), { message: URL_OR_COMMAND })
  .describe('Checked after the switch; on failure `current` goes back to the previous release (exit 4).');

export type Healthcheck = z.output<typeof healthcheckSchema>;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);
const stepsOf = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const taskOf = (step: unknown): string | undefined =>
  isRecord(step) && typeof step.task === 'string' ? step.task : undefined;
const taskRefs = (steps: unknown): string[] =>
  stepsOf(steps).flatMap((s) => {
    const task = taskOf(s);
    return task === undefined ? [] : [task];
  });

/**
 * Every `{ task }` must name a task, and no task may reach itself through others. It runs even
 * when other keys are wrong (see configSchema), so it reads what it is given as it was written:
 * a part that is not the shape it should be has its own problem and is skipped here.
 */
export function checkTaskReferences(
  config: { hooks?: unknown; tasks?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (!isRecord(config.tasks)) return;
  const tasks = config.tasks;
  const cycleFrom = (start: string): string[] | undefined => {
    const walk = (name: string, chain: string[]): string[] | undefined => {
      for (const next of taskRefs(tasks[name])) {
        if (next === start) return [...chain, next];
        if (!chain.includes(next) && Object.hasOwn(tasks, next)) {
          const found = walk(next, [...chain, next]);
          if (found) return found;
        }
      }
      return undefined;
    };
    return walk(start, [start]);
  };
  const visit = (steps: unknown, at: (string | number)[]) =>
    stepsOf(steps).forEach((step, i) => {
      const task = taskOf(step);
      // A name no task could have is reported as that already.
      if (task === undefined || Object.hasOwn(tasks, task) || !taskName.safeParse(task).success) return;
      ctx.addIssue({
        code: 'custom',
        path: [...at, i, 'task'],
        message: `no task \`${task}\` (tasks: ${Object.keys(tasks).join(', ') || 'none'})`,
      });
    });
  const hooks = isRecord(config.hooks) ? config.hooks : {};
  for (const when of ['before', 'after'] as const) {
    const points = hooks[when];
    if (!isRecord(points)) continue;
    for (const [stage, steps] of Object.entries(points)) visit(steps, ['hooks', when, stage]);
  }
  for (const [task, steps] of Object.entries(tasks)) {
    visit(steps, ['tasks', task]);
    const cycle = cycleFrom(task);
    if (cycle)
      ctx.addIssue({ code: 'custom', path: ['tasks', task], message: `task cycle ${cycle.join(' -> ')}` });
  }
}
