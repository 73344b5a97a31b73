import { DEPLOY } from './pipeline.js';
import type { Stage } from '../stages/types.js';
import type { StageInfo } from './reporter.js';
import { withHooks, type HookBook } from './hooks.js';

type Phases = { [K in keyof typeof DEPLOY]: (typeof DEPLOY)[K][number][] };

/** The deploy phases with configured hooks placed around their stages; a dry run plans the same list. */
export function deployPhases(book: HookBook): Phases {
  return Object.fromEntries(
    Object.entries(DEPLOY).map(([name, stages]) => [
      name,
      withHooks(stages as readonly Stage<never>[], book),
    ]),
  ) as unknown as Phases;
}

export const phaseStageInfo = (phases: Phases): StageInfo[] =>
  Object.values(phases)
    .flat()
    .map(({ id, title }) => ({ id, title }));
