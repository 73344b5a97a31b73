import { liveRelease, type RemoteState } from '../layout/remote-state.js';

/**
 * Releases whose directory someone removed by hand: the one `current` points to, and successful
 * ones newer than the oldest directory still there. Cleanup prunes oldest first and does not log
 * it, so a success older than every directory is an ordinary pruned release, not a missing one.
 */
export function missingReleases(remote: RemoteState): string[] {
  const present = new Set(remote.releases);
  const oldest = remote.releases[0];
  const live = liveRelease(remote);
  const missing = [...remote.history.values()]
    .filter((e) => e.status === 'success' && !present.has(e.name) && oldest !== undefined && e.name > oldest)
    .map((e) => e.name);
  if (live && !present.has(live) && !missing.includes(live)) missing.push(live);
  return missing.sort();
}

export const missingNote = (names: readonly string[]): string =>
  `release directory missing (deleted by hand?): ${names.join(', ')}; the log still names ${names.length === 1 ? 'it' : 'them'}`;
