import path from 'node:path';

export interface DeployPaths {
  root: string;
  releases: string;
  shared: string;
  current: string;
  meta: string;
  lock: string;
  log: string;
  /** Shared paths a deploy has seeded (from git-tracked files or `seed_shared`), one per line: each only once. */
  seeded: string;
}

export function deployPaths(root: string): DeployPaths {
  const p = (...s: string[]) => path.posix.join(root, ...s);
  return {
    root,
    releases: p('releases'),
    shared: p('shared'),
    current: p('current'),
    meta: p('.deploy'),
    lock: p('.deploy', 'lock'),
    log: p('.deploy', 'releases.jsonl'),
    seeded: p('.deploy', 'seeded-shared'),
  };
}

export const releaseDir = (paths: DeployPaths, name: string): string => path.posix.join(paths.releases, name);

/**
 * A deploy's own files under .deploy/ until its upload's seed check are `seed-<release>.<kind>`:
 * the check removes them, and the cleanup of a release cut off before it removes them by name.
 */
export const SEED_FILE_PREFIX = 'seed-';
export const seedFilePath = (paths: DeployPaths, release: string, kind: string): string =>
  path.posix.join(paths.meta, `${SEED_FILE_PREFIX}${release}.${kind}`);

/** What `current` holds when it points at a release: relative, so deploy_path can move. */
export const currentLinkText = (release: string): string => path.posix.join('releases', release);

/** Link text for a symlink at `from` pointing to `to`; relative so the tree can be moved or mounted elsewhere. */
export const relativeLink = (from: string, to: string): string =>
  path.posix.relative(path.posix.dirname(from), to);
