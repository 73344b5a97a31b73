import { RELEASE_PATTERN, type ReleaseLogEntry } from './release-log.js';

export interface RetentionInput {
  /** Release directories that exist, by name. */
  releases: readonly string[];
  history: ReadonlyMap<string, ReleaseLogEntry>;
  keep: number;
  /** Never removed: what `current` points to, the run's own release, a rollback target. */
  protect: readonly string[];
}

/**
 * Which release directories to delete. Only names that look like releases and appear in
 * the log are candidates, so a directory someone made by hand is never touched. Failed,
 * rolled-back and abandoned (`started`) releases do not count against keep_releases.
 */
export function releasesToRemove({ releases, history, keep, protect }: RetentionInput): string[] {
  const known = releases.filter((r) => RELEASE_PATTERN.test(r) && history.has(r)).sort();
  const successes = known.filter((r) => history.get(r)?.status === 'success');
  const kept = new Set([...successes.slice(-keep), ...protect]);
  const newestSuccess = successes.at(-1);
  return known.filter((r) => {
    if (kept.has(r)) return false;
    const status = history.get(r)?.status;
    if (status === 'success' || status === 'started') return true;
    // A failed or rolled-back release newer than the live line may still be wanted for inspection.
    return newestSuccess !== undefined && r < newestSuccess;
  });
}
