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

/**
 * The link phase prepares each host's own release and touches no other host, so with no local
 * step between the two and no fetch bundle to drop once the upload is over, it runs in the upload
 * phase's script: one exec request, and at a distance one round trip, less. A dry run shows the
 * phases as the run sends them.
 */
export const linkJoinsUpload = (book: HookBook, phases: Phases, fetching: boolean): boolean =>
  !fetching &&
  ![...phases.prepare, ...phases.upload].some((s) => book.local('after', s.id).length) &&
  !phases.link.some((s) => book.local('before', s.id).length);
