import path from 'node:path';
import { sh, type ShellText } from '../remote/sh.js';
import type { DeployPaths } from './paths.js';

/**
 * Pruned releases wait here for a background delete. It sits next to releases/ (not under
 * shared/, which shipshape never deletes from), so moving a release in is one rename on the
 * same filesystem: the release leaves releases/ atomically and costs nothing on the deploy's
 * critical path, where `rm -rf` of 10,000 hard links took seconds.
 */
export const trashDir = (paths: DeployPaths): string => path.posix.join(paths.meta, 'trash');

/**
 * Deletes everything in the trash (this run's releases and what a killed earlier delete left)
 * in a process detached from the SSH session: its own session (setsid) so neither the exec
 * channel closing nor an abort's process-group kill stops it, and every stdio on /dev/null so
 * sshd closes the channel at once instead of waiting for the delete. `find -mindepth 1` on the
 * quoted directory never reaches the trash itself or anything outside it.
 *
 * At the lowest CPU and best-effort I/O priority: it starts as the app warms up on its new
 * release, and unlinking a whole release kept two cores busy through the next deploy's probe. Not
 * ionice's idle class, which a busy disk under BFQ may never serve: the trash would only grow. Each
 * is used only when it runs here, so a host without it still empties its trash.
 */
export function planEmptyTrash(paths: DeployPaths): ShellText {
  const trash = trashDir(paths);
  return sh`if [ -d ${trash} ] && [ -n "$(ls -A ${trash})" ]; then
  __bg=''
  command -v setsid >/dev/null 2>&1 && __bg=setsid
  nice -n 19 true >/dev/null 2>&1 && __bg="$__bg nice -n 19"
  ionice -c 2 -n 7 true >/dev/null 2>&1 && __bg="$__bg ionice -c 2 -n 7"
  $__bg nohup find ${trash} -mindepth 1 -maxdepth 1 -exec rm -rf -- {} + </dev/null >/dev/null 2>&1 &
fi`;
}
