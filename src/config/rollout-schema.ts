import { z } from 'zod';

/** How a deploy moves across many hosts (issue: many hosts). */
export const rolloutSettings = {
  parallel: z
    .number()
    .int()
    .min(1)
    .default(10)
    .describe('Hosts worked on (and SSH connections open) at once. `--parallel` overrides it.'),
  strategy: z
    .enum(['all-at-once', 'rolling'])
    .default('all-at-once')
    .describe(
      'all-at-once: every host is prepared before any switches, then all switch together (a failure anywhere switches none). rolling: batches of batch_size hosts are prepared, switched and health-checked one after another.',
    ),
  batch_size: z
    .union([z.number().int().min(1), z.string().regex(/^([1-9]\d?|100)%$/)], {
      error: 'must be a number of hosts (1 or more) or a percentage of them (`25%`, from 1% to 100%)',
    })
    .default('25%')
    .describe(
      'Rolling strategy: hosts per batch, as a count (2) or a share of the selected hosts (25%, rounded up).',
    ),
  rollback_on_failure: z
    .enum(['batch', 'all'])
    .default('batch')
    .describe(
      'Rolling strategy: when a batch fails, roll back only that batch (earlier batches stay on the new release) or every batch already switched.',
    ),
};
