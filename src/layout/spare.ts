import path from 'node:path';
import { sh, type ShellText } from '../remote/sh.js';
import { SEED_FILE_PREFIX, type DeployPaths } from './paths.js';

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
 * Moves the spare's entries into the (empty, just created) release directory and removes the
 * spare's own directory. The probe listed it under the lock, so it is still there unless someone
 * removed it by hand; a symlink in its place is never followed. Not one rename of the whole
 * directory: a process still running from the pruned release (a queue worker nobody restarted)
 * has its working directory there, and would go on writing into the new release after the
 * seed check, files then recorded as deployed at the switch and deleted with the release. Its
 * working directory is now a removed, empty one, so such a write fails in that process instead.
 * Until then its writes land in the moved entries, which the seed check tells apart by the walk
 * (persistence/rescue.ts: seedRescue). The probe's walk of the spare moves to `walk`, and its
 * release's name to `$__ss_spr`.
 *
 * Before the first entry moves, the spare's name and list are kept under the release's name as
 * well (`takenSpare`, with the release directory's inode), until the upload's seed check drops
 * them: a deploy stopped before that check gives the entries back (planReturnOrRemove).
 */
export function planTakeSpare(
  paths: DeployPaths,
  release: string,
  releasePath: string,
  walk: string,
): ShellText {
  const spare = spareTree(paths);
  const taken = takenSpare(paths, release);
  const gone = `the spare release ${spare} disappeared after the probe listed it; deploy again`;
  const busy = `the spare release ${spare} could not be moved into the new release (a process keeps creating files in it?); stop it and deploy again`;
  // -n and no status: an entry created again under a name already moved is left in the spare,
  // never put over the moved one; what still will not move after five tries is handled below.
  return sh`{ [ -d ${spare} ] && [ ! -L ${spare} ]; } || { printf '%s\n' ${gone} >&2; exit 1; }
{ read -r __ss_spr < ${spareOrigin(paths)}; } 2>/dev/null || __ss_spr=
case "$__ss_spr" in ''|*/*|.|..) __ss_spr=spare ;; esac
if [ -f ${spareFiles(paths)} ]; then mv -f -- ${spareFiles(paths)} ${walk}; fi
if [ -f ${spareOrigin(paths)} ]; then
  { sed -n 1p ${spareOrigin(paths)}; stat -c %i -- ${releasePath}; } > ${taken.origin}
  # A list kept for another directory (its inode in the name) is not this spare's: given back as
  # its own, it would be bound to the spare and the spare checked against another release's files.
  if [ -f ${spareManifest(paths)} ] && [ "$(stat -c %i -- ${spare})" = "$(sed -n 2p ${spareOrigin(paths)})" ]; then
    ln -f -- ${spareManifest(paths)} ${taken.manifest}
  fi
fi
__ss_take=0
until rmdir -- ${spare} 2>/dev/null; do
  __ss_take=$((__ss_take + 1))
  if [ "$__ss_take" -gt 5 ]; then
    # An entry that will not move: a directory this user may not write (moving it rewrites its
    # \`..\`), or one a process keeps making. The spare then moves whole, as before this move
    # existed: what moved goes back, the spare is renamed onto the release, and the name kept
    # for a stopped deploy gets that directory's inode.
    find ${releasePath} -mindepth 1 -maxdepth 1 -exec mv -n -t ${spare} -- {} + 2>/dev/null || :
    rmdir -- ${releasePath} 2>/dev/null || { printf '%s\n' ${busy} >&2; exit 1; }
    # In this order, a deploy stopped at any line finds the entries where the kept name says.
    if [ -f ${taken.origin} ]; then
      { sed -n 1p ${taken.origin}; stat -c %i -- ${spare}; } > ${taken.origin}.new
      mv -f -- ${taken.origin}.new ${taken.origin}
    fi
    mv -T -- ${spare} ${releasePath}
    break
  fi
  find ${spare} -mindepth 1 -maxdepth 1 -exec mv -n -t ${releasePath} -- {} + 2>/dev/null || :
done
rm -f ${spareManifest(paths)} ${spareOrigin(paths)}`;
}

/** The spare's list and name while it is this deploy's release, until the upload's seed check drops them. */
export const takenSpare = (
  paths: DeployPaths,
  /** The release's name, or the shell's word for it (the cleanup's `"$1"`). */
  release: string | ShellText,
): { manifest: ShellText; origin: ShellText } => ({
  manifest: sh`${paths.meta}/${SEED_FILE_PREFIX}${release}.spare-list`,
  origin: sh`${paths.meta}/${SEED_FILE_PREFIX}${release}.spare-name`,
});

const RETURNED_MARKER = '@@shipshape-spare-returned';

/**
 * For a deploy stopped before its upload's seed check: when the release holds the spare's entries
 * (its inode is the one planTakeSpare recorded), they go back to be the spare, with its list,
 * instead of being deleted: a process still running from the spare's release may have written
 * into them since the probe, and only the spare's check (before it is reused or replaced) tells
 * those files apart and moves them to shared/.rescued/. Stopped while the entries moved, the
 * spare still has its own directory, name and list: the moved ones go back into it. Otherwise
 * the release becomes the spare, its inode already in the name kept. Any other release is
 * removed. Prints RETURNED_MARKER when it gave the spare back.
 */
export function planReturnOrRemove(paths: DeployPaths, release: string, releasePath: string): ShellText {
  const spare = spareTree(paths);
  const taken = takenSpare(paths, release);
  const kept = `${releasePath} still holds entries of the spare that could not go back to ${spare} (a name in both): it is kept`;
  return sh`__ss_ri=$(stat -c %i -- ${releasePath} 2>/dev/null) || __ss_ri=
if [ -n "$__ss_ri" ] && [ ! -L ${releasePath} ] && [ "$(sed -n 2p ${taken.origin} 2>/dev/null)" = "$__ss_ri" ]; then
  if [ -d ${spare} ] && [ ! -L ${spare} ]; then
    find ${releasePath} -mindepth 1 -maxdepth 1 -exec mv -n -t ${spare} -- {} + 2>/dev/null || :
    rmdir -- ${releasePath} 2>/dev/null || printf '%s\n' ${kept} >&2
    printf '%s\n' ${RETURNED_MARKER}
  elif [ ! -e ${spare} ] && [ ! -L ${spare} ]; then
    mv -T -- ${releasePath} ${spare}
    mv -f -- ${taken.origin} ${spareOrigin(paths)}
    # Stopped before the take dropped the spare's own list, the kept one is that same file (a hard
    # link), which mv refuses to move over itself.
    if [ -f ${taken.manifest} ] && [ ! ${taken.manifest} -ef ${spareManifest(paths)} ]; then
      mv -f -- ${taken.manifest} ${spareManifest(paths)}
    fi
    printf '%s\n' ${RETURNED_MARKER}
  else
    rm -rf -- ${releasePath}
  fi
else
  rm -rf -- ${releasePath}
fi
rm -f -- ${taken.origin} ${taken.manifest}`;
}

export const spareReturned = (stdout: string): boolean => stdout.includes(RETURNED_MARKER);
