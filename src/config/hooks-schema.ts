import { z } from 'zod';
import { HOOK_STAGES } from '../definitions/hook-points.js';

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

export const stepSchema = z.union([
  z.string().min(1).describe('A remote command, run with /bin/sh in the release directory.'),
  z
    .strictObject({
      run: z.string().min(1).describe('The command.'),
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
]);

export type Step = z.output<typeof stepSchema>;

const stepList = z.array(stepSchema);

// A strict object rather than a record, so an unknown stage gets the loader's "did you mean".
const pointMap = (when: string) =>
  z
    .strictObject(
      Object.fromEntries(
        HOOK_STAGES.map((stage) => [stage, stepList.optional().describe(`Steps run ${when} \`${stage}\`.`)]),
      ) as Record<(typeof HOOK_STAGES)[number], z.ZodOptional<typeof stepList>>,
    )
    .default({})
    .describe(`Steps run ${when} the named stage, in list order.`);

export const hooksSchema = z
  .strictObject({
    before: pointMap('before'),
    after: pointMap('after'),
  })
  .default({ before: {}, after: {} })
  .describe('Steps around stages: `hooks.before.symlink`, `hooks.after.rollback`, …');

export const tasksSchema = z
  .record(taskName, stepList)
  .default({})
  .describe('Named step lists, used from hooks with `{ task: <name> }`.');

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

const taskRefs = (steps: readonly Step[]): string[] =>
  steps.flatMap((s) => (typeof s !== 'string' && 'task' in s ? [s.task] : []));

/** Every `{ task }` must name a task, and no task may reach itself through others. */
export function checkTaskReferences(
  config: { hooks: z.output<typeof hooksSchema>; tasks: Record<string, Step[]> },
  ctx: z.RefinementCtx,
): void {
  const { tasks } = config;
  const cycleFrom = (start: string): string[] | undefined => {
    const walk = (name: string, chain: string[]): string[] | undefined => {
      for (const next of taskRefs(tasks[name] ?? [])) {
        if (next === start) return [...chain, next];
        if (!chain.includes(next) && tasks[next]) {
          const found = walk(next, [...chain, next]);
          if (found) return found;
        }
      }
      return undefined;
    };
    return walk(start, [start]);
  };
  const visit = (steps: readonly Step[], at: (string | number)[]) =>
    steps.forEach((step, i) => {
      if (typeof step === 'string' || !('task' in step) || tasks[step.task]) return;
      ctx.addIssue({
        code: 'custom',
        path: [...at, i, 'task'],
        message: `no task \`${step.task}\` (tasks: ${Object.keys(tasks).join(', ') || 'none'})`,
      });
    });
  for (const when of ['before', 'after'] as const) {
    for (const [stage, steps] of Object.entries(config.hooks[when]))
      visit(steps ?? [], ['hooks', when, stage]);
  }
  for (const [task, steps] of Object.entries(tasks)) {
    visit(steps, ['tasks', task]);
    const cycle = cycleFrom(task);
    if (cycle)
      ctx.addIssue({ code: 'custom', path: ['tasks', task], message: `task cycle ${cycle.join(' -> ')}` });
  }
}
