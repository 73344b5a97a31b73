import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeployError } from '../definitions/errors.js';
import { git, GitError } from './git.js';
import type { Commit } from './git-commit.js';

export interface Worktree {
  /** The checkout's top directory. */
  dir: string;
  /** Removes the checkout and git's record of it; never throws. */
  remove(): Promise<void>;
}

/**
 * A clean checkout of the commit in a temporary directory (`git worktree add --detach`), for the
 * local build steps of a `--revision` deploy: they never run in, or read, the developer's tree.
 * Repository hooks do not run for it (a post-checkout hook is the developer's, not the deploy's).
 */
export async function addWorktree(c: Commit): Promise<Worktree> {
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'shipshape-revision-'));
  const dir = path.join(parent, 'tree');
  const remove = async () => {
    await git(c.loc.top, ['worktree', 'remove', '--force', dir]).catch(() => undefined);
    await fs.rm(parent, { recursive: true, force: true }).catch(() => undefined);
    // Drops git's record when the directory went first (removed by hand, or by the rm above).
    await git(c.loc.top, ['worktree', 'prune']).catch(() => undefined);
  };
  try {
    await git(c.loc.top, [
      '-c',
      'core.hooksPath=/dev/null',
      'worktree',
      'add',
      '--detach',
      '--quiet',
      dir,
      c.sha,
    ]);
  } catch (e) {
    await remove();
    throw new DeployError('EREVISION', {
      revision: c.sha,
      reason: `could not check it out for the local build steps: ${e instanceof GitError ? e.stderr.trim() : String(e)}`,
    });
  }
  return { dir, remove };
}
