import { DEPLOY } from './pipeline.js';
import { symlink } from '../stages/symlink.js';
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

/**
 * With one host there is no other host to switch before it finishes, so with no health check and
 * nothing on this machine between the two, the finish phase (the recipe's steps after the switch,
 * cleanup, unlock) runs in the switch phase's script: one exec request, and at a distance one
 * round trip, less. Only when the script is the switch alone: the finish runs whatever happens
 * (an interrupt included, as it would once the release is live), so a hook before or after the
 * switch, which an interrupt must still stop, keeps the phases apart (joined, a Ctrl-C would wait
 * for a hook after the switch to end, where with two hosts it stops it).
 */
export const finishJoinsSwitch = (
  book: HookBook,
  phases: Phases,
  hosts: number,
  checksHealth: boolean,
): boolean =>
  hosts === 1 &&
  !checksHealth &&
  phases.switch.length === 1 &&
  phases.switch[0]?.id === symlink.id &&
  !phases.switch.some((s) => book.local('after', s.id).length) &&
  !phases.finish.some((s) => book.local('before', s.id).length);

/** The phases as the run sends them, each with its script's stages: a joined phase goes in the one before it. */
export function sentPhases(
  phases: Phases,
  joined: { link: boolean; finish: boolean },
): [string, readonly Stage<never>[]][] {
  const out: [string, readonly Stage<never>[]][] = [];
  for (const [name, stages] of Object.entries(phases) as [keyof Phases, readonly Stage<never>[]][]) {
    if ((name === 'link' && joined.link) || (name === 'finish' && joined.finish)) {
      const last = out.at(-1)!;
      last[1] = [...last[1], ...stages];
    } else out.push([name, stages]);
  }
  return out;
}
