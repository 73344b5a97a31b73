import path from 'node:path';
import { sh, type ShellText } from '../remote/sh.js';
import type { DeployPaths } from './paths.js';

/**
 * One pruned release kept whole instead of deleted, for the next deploy to rename into its
 * new release and correct by the difference. Creating a release's directories is what a
 * hard-link copy spends its time on (thousands of mkdir on a slow disk), and a release
 * that was live a few deploys ago already has nearly all of them. It lives next to the
 * trash, outside releases/ (never a rollback target) and outside shared/.
 */
export const spareTree = (paths: DeployPaths): string => path.posix.join(paths.meta, 'spare');

/**
 * The spare's files as its release's manifest recorded them, and that release's name with the
 * spare directory's inode: a process still running from the release may write into the spare
 * after it was pruned. The probe offers the spare only when its files are still these, and the
 * cleanup that replaces or gives up the spare moves what was written out first
 * (persistence/rescue.ts).
 */
export const spareManifest = (paths: DeployPaths): string => path.posix.join(paths.meta, 'spare.list');
export const spareOrigin = (paths: DeployPaths): string => path.posix.join(paths.meta, 'spare.name');
/** The spare's files as the probe's walk of it found them, in the manifest's records (deploy only). */
export const spareFiles = (paths: DeployPaths): string => path.posix.join(paths.meta, 'spare-files.list');

/**
 * Renames the spare onto the (empty, just created) release directory. The probe listed it
 * under the lock, so it is still there unless someone removed it by hand; a symlink in its
 * place is never followed. The probe's walk of it moves to `walk`, and its release's name to
 * `$__ss_spr`: a process still running from that release may write into it until the upload's
 * seed check, which tells such files apart by the walk (persistence/rescue.ts: seedRescue).
 */
export function planTakeSpare(paths: DeployPaths, releasePath: string, walk: string): ShellText {
  const spare = spareTree(paths);
  const gone = `the spare release ${spare} disappeared after the probe listed it; deploy again`;
  return sh`{ [ -d ${spare} ] && [ ! -L ${spare} ] && mv -T -- ${spare} ${releasePath}; } || { printf '%s\n' ${gone} >&2; exit 1; }
{ read -r __ss_spr < ${spareOrigin(paths)}; } 2>/dev/null || __ss_spr=
case "$__ss_spr" in ''|*/*|.|..) __ss_spr=spare ;; esac
if [ -f ${spareFiles(paths)} ]; then mv -f -- ${spareFiles(paths)} ${walk}; fi
rm -f ${spareManifest(paths)} ${spareOrigin(paths)}`;
}
