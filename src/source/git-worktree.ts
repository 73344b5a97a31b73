import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeployError } from '../definitions/errors.js';
import { git, GitError } from './git.js';
import { applyExportRules } from './git-export.js';
import { restoreCommittedBytes } from './git-worktree-bytes.js';
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
 * Its files are what `git archive` gives, whatever the developer's git settings (autocrlf,
 * sparse checkout): the upload without local steps sends that, and the two must not differ. So
 * what git archive leaves out (export-ignore) is not in it, and export-subst files and those the
 * committed attributes convert (eol=crlf, ident) hold git archive's bytes: the build sees what
 * is deployed.
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
      '--no-checkout',
      '--quiet',
      dir,
      c.sha,
    ]);
    await checkOutWhole(dir);
    await restoreCommittedBytes(dir);
    await applyExportRules(c, dir);
  } catch (e) {
    await remove();
    throw new DeployError('EREVISION', {
      revision: c.sha,
      reason: `could not check it out for the local build steps: ${e instanceof GitError ? e.stderr.trim() : String(e)}`,
    });
  }
  return { dir, remove };
}

/**
 * The developer's settings are for their own checkout, not the deploy's: `git worktree add`
 * copies the sparse-checkout patterns into a new worktree (git 2.39 does), and autocrlf or
 * core.eol would rewrite line endings. So the worktree is added empty and filled here with them
 * overridden for this one command, and the copied patterns are removed so that the build's own
 * git commands see the whole tree too (without the file, git checks out everything).
 */
async function checkOutWhole(dir: string): Promise<void> {
  // Relative to `dir` as git prints it (git before 2.31 has no --path-format).
  const where = await git(dir, ['rev-parse', '--git-path', 'info/sparse-checkout']);
  const sparse = path.resolve(dir, where.toString('utf8').trim());
  await fs.rm(sparse, { force: true });
  await git(dir, [
    ...['-c', 'core.hooksPath=/dev/null', '-c', 'core.sparseCheckout=false', '-c', 'index.sparse=false'],
    ...['-c', 'core.autocrlf=false', '-c', 'core.eol=lf', '-c', 'core.symlinks=true'],
    ...['reset', '--hard', '--quiet'],
  ]);
}
