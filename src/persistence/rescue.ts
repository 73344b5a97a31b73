import path from 'node:path';
import type { Note } from '../definitions/note.js';
import type { DeployPaths } from '../layout/paths.js';
import { defineChanges, defineManifestOf, MANIFEST_FILES, RECORD } from '../layout/release-files.js';
import { spareFiles, spareManifest, spareOrigin, spareTree } from '../layout/spare.js';
import { trashDir } from '../layout/trash.js';
import { markerLines } from '../remote/markers.js';
import { lines, sh, type ShellText } from '../remote/sh.js';

/**
 * Runtime-written content: files the running app wrote inside its release (outside shared/)
 * after the release went live, recognised against the manifest taken at the switch
 * (layout/release-files.ts), so what the deploy itself built (vendor installs, config caches)
 * is part of the release. Before a release is pruned they move to shared/.rescued/<release>/.
 */
const RESCUE_MARKER = '@@shipshape-rescued ';
/** A release that stays because something in it could not be rescued: `<release> TAB <why>`. */
const KEPT_MARKER = '@@shipshape-kept ';

/**
 * Moves one file (cwd: the release) to the same path under the destination, `$0`. An existing
 * copy there (an earlier rescue of the live release's changes) is kept as `<name>.~N~`. mv
 * within one filesystem is a rename: content, owner and mode go along, whoever owns the file.
 */
const MOVE_EACH = `for f do
  d=\${f%/*}; [ "$d" = "$f" ] && d=.
  mkdir -p -- "$0/$d" && mv --backup=numbered -T -- "$f" "$0/$f" || exit 255
done`;

/**
 * Defines `__ss_remove_release NAME trash|spare`. Every step must succeed for the release to
 * leave releases/: the listing of what the app wrote, each move into shared/.rescued/, then the
 * rename to the trash (deleted in the background) or to the spare the next incremental deploy
 * builds on. Any failure keeps the release where it is and prints which release and why (the
 * failing command's own words, which name the file); the deploy goes on, and the next one tries
 * again. A release that never went live has no manifest and nothing to rescue. Names may hold
 * any byte: the lists are NUL-separated from find to mv.
 */
export function defineRemoveRelease(paths: DeployPaths, ephemeral: readonly string[]): ShellText {
  const trash = trashDir(paths);
  const spare = spareTree(paths);
  return lines(
    defineChanges(ephemeral),
    defineManifestOf(paths),
    sh`__ss_kept() { printf '%s%s\\t%s\\n' ${KEPT_MARKER} "$1" "$(tail -n 3 "$2" 2>/dev/null | tr '\\n\\r\\t' '   ')"; }
__ss_rescue() {
  __ss_dir=${paths.releases}/"$1"
  __ss_m=$(__ss_manifest_of "$1")
  [ -n "$__ss_m" ] || return 0
  __ss_out=$__ss_m.rescue
  # Only for the spare (see planListAhead): what was written after the list was made stays in it.
  __ss_files_of= __ss_files=${listedAhead(paths, sh`"$1"`)}
  if [ "$2" = spare ] && [ -f "$__ss_files" ]; then __ss_files_of=$__ss_dir; fi
  __ss_changes "$__ss_dir" "$__ss_m" mtime "$__ss_out" || return 1
  sed -z -n 's/^\\(added\\|changed\\)\\t//p' "$__ss_out" > "$__ss_out.paths" || return 1
  __ss_n=$(tr -cd '\\000' < "$__ss_out.paths" | wc -c) || return 1
  if [ "$__ss_n" != 0 ]; then
    (cd "$__ss_dir" && xargs -0 -r sh -c ${MOVE_EACH} ${path.posix.join(paths.shared, '.rescued')}/"$1") < "$__ss_out.paths" || return 1
    printf '%s%s %s\\n' ${RESCUE_MARKER} "$1" "$__ss_n"
  fi
  rm -f "$__ss_out" "$__ss_out.paths"
}
__ss_remove_release() {
  __ss_err=${paths.meta}/remove-"$1".err
  if [ ! -d ${paths.releases}/"$1" ] || [ -L ${paths.releases}/"$1" ]; then return 0; fi
  mkdir -p ${paths.meta} || { printf '%s%s\t%s\n' ${KEPT_MARKER} "$1" 'cannot create .deploy/'; return 0; }
  __ss_rescued=0
  __ss_rescue "$1" "$2" 2> "$__ss_err" || __ss_rescued=$?
  rm -f ${listedAhead(paths, sh`"$1"`)}
  if [ "$__ss_rescued" != 0 ]; then __ss_kept "$1" "$__ss_err"; return 0; fi
  if [ "$2" = spare ]; then
    rm -f ${spareManifest(paths)} ${spareOrigin(paths)}
    { { [ ! -e ${spare} ] && [ ! -L ${spare} ]; } || { mkdir -p ${trash} && mv -T -- ${spare} ${trash}/spare.$$; }; } 2> "$__ss_err" &&
      mv -T -- ${paths.releases}/"$1" ${spare} 2>> "$__ss_err" || { __ss_kept "$1" "$__ss_err"; return 0; }
    # Kept for the deploy that reuses the spare: what is written into it from now on is told apart.
    __ss_ml=${path.posix.join(paths.meta, 'manifests')}/"$1".list
    if [ -f "$__ss_ml" ] && __ss_si=$(stat -c %i -- ${spare}); then
      printf '%s\\n%s\\n' "$1" "$__ss_si" > ${spareOrigin(paths)} && mv -f -- "$__ss_ml" ${spareManifest(paths)} || rm -f ${spareManifest(paths)}
    fi
  else
    { mkdir -p ${trash} && mv -T -- ${paths.releases}/"$1" ${trash}/"$1".$$; } 2> "$__ss_err" || { __ss_kept "$1" "$__ss_err"; return 0; }
  fi
  rm -f -- "$__ss_err" ${path.posix.join(paths.meta, 'manifests')}/"$1".list ${path.posix.join(paths.meta, 'manifests')}/"$1".tsv
}`,
  );
}

/** Files moved out of the spare before it became the new release: `<release> <count>`. */
const SPARE_MARKER = '@@shipshape-rescued-spare ';

/**
 * Before the spare is renamed into the new release (whose plan removes whatever the source does
 * not have): what was written into it since it was pruned, by a process still running from that
 * release, goes to shared/.rescued/<release>/ as the rescue at pruning does. The probe's walk of the
 * spare (spareFiles) is compared first: the same bytes as the list kept at pruning mean nothing
 * was written. What cannot be moved stops the deploy here, before the spare is touched: its data
 * is never deleted. A spare kept before this check existed has no list and is not checked, nor is
 * one whose list was kept for another directory (its inode, in spareOrigin, tells).
 */
export function planRescueFromSpare(paths: DeployPaths, ephemeral: readonly string[]): ShellText {
  const spare = spareTree(paths);
  const list = spareManifest(paths);
  const out = path.posix.join(paths.meta, 'spare.rescue');
  const stuck =
    'files written into the spare (a pruned release) after it was pruned could not be moved to shared/.rescued/; nothing was deployed. Move them out of it by hand (or fix their permissions), then deploy again:';
  return lines(
    defineChanges(ephemeral),
    sh`__ss_so= __ss_si=
if [ -f ${spareOrigin(paths)} ]; then { read -r __ss_so; read -r __ss_si; } < ${spareOrigin(paths)} || :; fi
# The list is this spare's only while the spare is the directory it was kept with: one that an
# older shipshape pruned or took since (it knows no list) says nothing of the spare here now.
if [ -f ${list} ] && { [ -z "$__ss_si" ] || [ "$(stat -c %i -- ${spare})" != "$__ss_si" ]; }; then
  rm -f ${list} ${spareOrigin(paths)}
fi
if [ -f ${list} ] && ! { [ -f ${spareFiles(paths)} ] && cmp -s ${spareFiles(paths)} ${list}; }; then
  case "$__ss_so" in ''|*/*|.|..) __ss_so=spare ;; esac
  __ss_changes ${spare} ${list} mtime ${out}
  sed -z -n 's/^\\(added\\|changed\\)\\t//p' ${out} > ${`${out}.paths`}
  __ss_n=$(tr -cd '\\000' < ${`${out}.paths`} | wc -c)
  if [ "$__ss_n" != 0 ]; then
    (cd ${spare} && xargs -0 -r sh -c ${MOVE_EACH} ${path.posix.join(paths.shared, '.rescued')}/"$__ss_so") < ${`${out}.paths`} 2> ${`${out}.err`} || {
      printf '%s %s\\n' ${stuck} "$(tail -n 3 ${`${out}.err`} | tr '\\n' ' ')" >&2
      exit 1
    }
    printf '%s%s %s\\n' ${SPARE_MARKER} "$__ss_so" "$__ss_n"
  fi
  rm -f ${out} ${`${out}.paths`} ${`${out}.err`}
fi`,
  );
}

export function spareRescueNotes(stdout: string, sharedRoot: string): Note[] {
  return markerLines(stdout, SPARE_MARKER)
    .map((l) => l.split(' '))
    .map(([release, n]) => ({
      level: 'warn' as const,
      message: `release ${release}: ${n} file(s) were written into it after it was pruned (by a process still running from it); moved to ${sharedRoot}/.rescued/${release}/ before its directories were reused for the new release`,
    }));
}

/** The files of the release this deploy will make the spare, listed ahead (planListAhead): `prune-<release>.list`. */
const listedAhead = (paths: DeployPaths, release: ShellText): ShellText =>
  sh`${paths.meta}/prune-${release}.list`;

/**
 * Lists, in the background while the upload and the switch go on, the files of the release this
 * deploy's cleanup will make the spare, as its manifest records them: the same bytes as the
 * manifest spare the cleanup its own walk of the release. That is safe for the spare alone. What
 * the app writes into it after this list was made stays in it, and the deploy that reuses or
 * replaces the spare compares it with the same manifest first (planRescueFromSpare). A release
 * on its way to the trash is always walked at cleanup, right before it goes. The list is written
 * aside and renamed: a listing the cleanup does not find whole is simply not used.
 */
export function planListAhead(paths: DeployPaths, release: string): ShellText {
  const dir = path.posix.join(paths.releases, release);
  const out = listedAhead(paths, sh`${release}`);
  const tmp = sh`${out}.tmp`;
  // Its own stdin and stdout: the script's are the upload's archive and the SSH channel, which
  // would stay open until the listing is done.
  return sh`rm -f ${out} ${tmp}
if [ -d ${dir} ] && [ ! -L ${dir} ]; then
  { (cd ${dir} && find . ${MANIFEST_FILES} -printf ${RECORD}) > ${tmp} && mv -f -- ${tmp} ${out}; } < /dev/null > /dev/null 2>&1 &
fi`;
}

/** One release to prune, after defineRemoveRelease. */
export const planRemoveRelease = (release: string, to: 'trash' | 'spare'): ShellText =>
  sh`__ss_remove_release ${release} ${to}`;

export function rescueNotes(stdout: string, sharedRoot: string): Note[] {
  const rescued = markerLines(stdout, RESCUE_MARKER)
    .map((l) => l.split(' '))
    .map(([release, n]) => ({
      level: 'warn' as const,
      message: `release ${release}: the app wrote ${n} file(s) into it after it went live; moved to ${sharedRoot}/.rescued/${release}/ before removing it (point the app at a shared dir instead)`,
    }));
  const kept = markerLines(stdout, KEPT_MARKER).map((l) => {
    const tab = l.indexOf('\t');
    const [release, why] = tab < 0 ? [l, ''] : [l.slice(0, tab), l.slice(tab + 1).trim()];
    return {
      level: 'warn' as const,
      message: `release ${release} was kept, not removed: what the app wrote into it could not be rescued${why ? ` (${why})` : ''}. It stays in releases/ and the next deploy tries again; fix the permissions or move the files by hand.`,
    };
  });
  return [...rescued, ...kept];
}
