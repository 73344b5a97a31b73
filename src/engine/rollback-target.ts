import { DeployError } from '../definitions/errors.js';
import { liveRelease, type RemoteState } from '../layout/remote-state.js';

export interface RollbackChoice {
  target: string;
  /** What `current` pointed to; undefined when nothing was live. */
  left?: string;
}

const statusOf = (remote: RemoteState, name: string): string => remote.history.get(name)?.status ?? 'unknown';

/** Successful releases still on disk, other than the live one, newest first. */
export function rollbackCandidates(remote: RemoteState): string[] {
  const current = liveRelease(remote);
  return remote.releases
    .filter((r) => r !== current && statusOf(remote, r) === 'success')
    .sort()
    .reverse();
}

/** A release that went live or was complete enough to be checked; --force may bring it back. */
const FORCEABLE = new Set(['failed', 'rolled_back']);

/**
 * The newest `success` release older than the live one, by name (names are UTC timestamps;
 * mtimes change with `touch` and copies), or the one asked for. A failed or rolled-back release
 * is refused unless forced: it was taken out of service for a reason. A `started` release (an
 * upload cut off or still running) or one the log does not know (made by hand) may be
 * incomplete, so not even --force points `current` at it.
 */
export function chooseRollbackTarget(
  host: string,
  remote: RemoteState,
  options: { to?: string; force?: boolean } = {},
): RollbackChoice {
  const left = liveRelease(remote);
  const candidates = rollbackCandidates(remote);
  const refuse = (reason: string) =>
    new DeployError('ENOROLLBACK', { host, reason, candidates: candidates.join(', ') || undefined });
  if (options.to !== undefined) {
    if (!remote.releases.includes(options.to)) throw refuse(`release ${options.to} does not exist`);
    if (options.to === left) throw refuse(`release ${options.to} is already current`);
    const status = statusOf(remote, options.to);
    if (status !== 'success' && !FORCEABLE.has(status)) {
      throw refuse(
        `release ${options.to} is ${status === 'unknown' ? 'not in the release log' : status} and may be incomplete; it cannot be made current`,
      );
    }
    if (status !== 'success' && !options.force) {
      throw refuse(
        `release ${options.to} is ${status.replace('_', ' ')}; pass --force to switch to it anyway`,
      );
    }
    return { target: options.to, left };
  }
  if (!left) throw refuse('nothing is live (`current` does not point at a release)');
  const target = candidates.find((r) => r < left);
  if (!target) throw refuse(`no successful release older than ${left} to roll back to`);
  return { target, left };
}
