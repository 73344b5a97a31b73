import { isDeployError } from '../definitions/errors.js';

/** The command that renames over `current`: a stage id and the command's index in its plan. */
export interface SwitchPoint {
  stage: string;
  index: number;
}

/**
 * Whether a failed or interrupted script got past the rename over `current`. The executor names
 * the stage that was running and, for a failed command, its index: a later command of the
 * switching stage (its log line) failing is after the switch too. Hooks `before:` the stage run
 * before it; any other stage of the phase runs after it.
 */
export function passedSwitch(e: unknown, at: SwitchPoint): boolean {
  const during = isDeployError(e) ? e.during : undefined;
  if (during === undefined || during.stage.startsWith('before:')) return false;
  if (during.stage !== at.stage) return true;
  return during.commandIndex !== undefined && during.commandIndex > at.index;
}
