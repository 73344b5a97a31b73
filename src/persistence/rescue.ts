import path from 'node:path';
import type { Note } from '../definitions/note.js';
import { SEED_FILE_PREFIX, type DeployPaths } from '../layout/paths.js';
import { defineChanges, defineManifestOf, MANIFEST_FILES, RECORD } from '../layout/release-files.js';
import { spareFiles, spareManifest, spareOrigin, spareTree, takenSpare } from '../layout/spare.js';
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
 * again. A release that never went live has no manifest and nothing to rescue.
 */
export function defineRemoveRelease(paths: DeployPaths, ephemeral: readonly string[]): ShellText {
  const trash = trashDir(paths);
  const spare = spareTree(paths);
  const taken = takenSpare(paths, sh`"$1"`);
  return lines(
    defineChanges(ephemeral),
    defineManifestOf(paths),
    defineMoveWritten(paths),
    defineSpareRescue(paths),
    sh`__ss_kept() { printf '%s%s\\t%s\\n' ${KEPT_MARKER} "$1" "$(tail -n 3 "$2" 2>/dev/null | tr '\\n\\r\\t' '   ')"; }
# Before the spare is replaced or given up, what was written into it since it was pruned moves
# out. Non-zero, and said (naming RELEASE, the release pruned meanwhile, if any), when it cannot.
__ss_clear_spare() {
  if [ ! -d ${spare} ] || [ -L ${spare} ] || __ss_spare_rescue 2> "$__ss_err"; then return 0; fi
  printf '%s%s\\t%s\\t%s\\n' ${SPARE_KEPT_MARKER} "$__ss_spr" "$1" "$(tail -n 3 "$__ss_err" | tr '\\n\\r\\t' '   ')"
  return 1
}
# A spare this deploy's upload mode does not use is given up (to the trash), once cleared.
__ss_retire_spare() {
  __ss_err=${paths.meta}/retire-spare.err
  if __ss_clear_spare '' && { [ -e ${spare} ] || [ -L ${spare} ]; }; then
    rm -f ${spareManifest(paths)} ${spareOrigin(paths)} ${spareFiles(paths)} && mkdir -p ${trash} && mv -T -- ${spare} ${trash}/spare.$$ || :
  fi
  rm -f "$__ss_err"
}
# A list still being made (its job alive, by the pid beside it) is waited for, up to 2 s, rather
# than made a second time beside it: the walk it saves is of a release no probe read lately.
__ss_await_list() {
  __ss_lp=$(cat "$1.pid" 2>/dev/null) || return 0
  __ss_li=0
  while [ ! -f "$1" ] && [ "$__ss_li" -lt 100 ] && kill -0 "$__ss_lp" 2>/dev/null; do
    sleep 0.02 2>/dev/null || break
    __ss_li=$((__ss_li + 1))
  done
}
# A release that a deploy cut off (no discard ran) left holding the spare it took has no manifest,
# but the spare's list and name, kept beside it for the seed check (layout/spare.ts): what was
# written into the spare is told apart by them, as discard's return would have let the next check
# do, instead of going with a release that seems never to have been live.
__ss_taken_list() {
  [ "$(stat -c %i -- ${paths.releases}/"$1")" = "$(sed -n 2p ${taken.origin} 2>/dev/null)" ] &&
    [ -f ${taken.manifest} ] && printf '%s\n' ${taken.manifest}
}
__ss_rescue() {
  __ss_dir=${paths.releases}/"$1"
  __ss_m=$(__ss_manifest_of "$1")
  __ss_rn=$1
  if [ -z "$__ss_m" ] && __ss_m=$(__ss_taken_list "$1"); then
    __ss_rn=$(sed -n 1p ${taken.origin})
    case "$__ss_rn" in ''|*/*|.|..) __ss_rn=spare ;; esac
  fi
  [ -n "$__ss_m" ] || return 0
  # Only for the spare (see planListAhead): what was written after the list was made stays in it.
  __ss_files_of= __ss_files=${listedAhead(paths, sh`"$1"`)}
  if [ "$2" = spare ]; then __ss_await_list "$__ss_files"; fi
  if [ "$2" = spare ] && [ -f "$__ss_files" ]; then __ss_files_of=$__ss_dir; fi
  __ss_move_written "$__ss_dir" "$__ss_m" "$__ss_m.rescue" "$__ss_rn" ${RESCUE_MARKER}
}
__ss_remove_release() {
  __ss_err=${paths.meta}/remove-"$1".err
  if [ ! -d ${paths.releases}/"$1" ] || [ -L ${paths.releases}/"$1" ]; then return 0; fi
  mkdir -p ${paths.meta} || { printf '%s%s\t%s\n' ${KEPT_MARKER} "$1" 'cannot create .deploy/'; return 0; }
  __ss_to=$2
  # A spare this deploy did not reuse (its probe did not offer it) is replaced; one that cannot be
  # cleared stays whole, and this release goes to the trash instead.
  if [ "$__ss_to" = spare ] && ! __ss_clear_spare "$1"; then __ss_to=trash; fi
  __ss_rescued=0
  __ss_rescue "$1" "$__ss_to" 2> "$__ss_err" || __ss_rescued=$?
  rm -f ${listedAhead(paths, sh`"$1"`)}
  if [ "$__ss_rescued" != 0 ]; then __ss_kept "$1" "$__ss_err"; return 0; fi
  if [ "$__ss_to" = spare ]; then
    rm -f ${spareManifest(paths)} ${spareOrigin(paths)}
    { { [ ! -e ${spare} ] && [ ! -L ${spare} ]; } || { mkdir -p ${trash} && mv -T -- ${spare} ${trash}/spare.$$; }; } 2> "$__ss_err" &&
      mv -T -- ${paths.releases}/"$1" ${spare} 2>> "$__ss_err" || { __ss_kept "$1" "$__ss_err"; return 0; }
    # Kept for the deploy that reuses the spare: what is written into it from now on is told apart.
    __ss_ml=${path.posix.join(paths.meta, 'manifests')}/"$1".list
    if [ ! -f "$__ss_ml" ] && [ "$__ss_rn" != "$1" ]; then __ss_ml=${taken.manifest}; fi
    if [ -f "$__ss_ml" ] && __ss_si=$(stat -c %i -- ${spare}); then
      printf '%s\\n%s\\n' "$__ss_rn" "$__ss_si" > ${spareOrigin(paths)} && mv -f -- "$__ss_ml" ${spareManifest(paths)} || rm -f ${spareManifest(paths)}
    fi
  else
    { mkdir -p ${trash} && mv -T -- ${paths.releases}/"$1" ${trash}/"$1".$$; } 2> "$__ss_err" || { __ss_kept "$1" "$__ss_err"; return 0; }
  fi
  # The seed's walk files too (seed-RELEASE.*), left by a deploy cut off before its seed check.
  rm -f -- "$__ss_err" ${taken.origin} ${taken.manifest} ${paths.meta}/${SEED_FILE_PREFIX}"$1".*
  rm -f -- ${path.posix.join(paths.meta, 'manifests')}/"$1".list ${path.posix.join(paths.meta, 'manifests')}/"$1".tsv
}`,
  );
}

/** Files moved out of the spare, written into it after it was pruned: `<release> <count>`. */
const SPARE_MARKER = '@@shipshape-rescued-spare ';
/** An older spare kept whole at cleanup: `<its release> TAB <the release pruned meanwhile> TAB <why>`. */
const SPARE_KEPT_MARKER = '@@shipshape-spare-kept ';

/**
 * Defines `__ss_move_written DIR MANIFEST OUT NAME MARKER`: moves the files the app wrote into
 * DIR since MANIFEST was taken (added or changed) to shared/.rescued/NAME/, OUT holding the lists
 * meanwhile, and prints `MARKER NAME COUNT` when there were any. Non-zero when DIR cannot be read
 * whole or a move fails. Names may hold any byte: the lists are NUL-separated from find to mv.
 */
function defineMoveWritten(paths: DeployPaths): ShellText {
  return sh`__ss_move_written() {
  __ss_changes "$1" "$2" mtime "$3" || return 1
  sed -z -n 's/^\\(added\\|changed\\)\\t//p' "$3" > "$3.paths" || return 1
  __ss_n=$(tr -cd '\\000' < "$3.paths" | wc -c) || return 1
  if [ "$__ss_n" != 0 ]; then
    (cd "$1" && xargs -0 -r sh -c ${MOVE_EACH} ${path.posix.join(paths.shared, '.rescued')}/"$4") < "$3.paths" || return 1
    printf '%s%s %s\\n' "$5" "$4" "$__ss_n"
  fi
  rm -f "$3" "$3.paths"
}`;
}

/** The spare's list is its own while the spare is the directory it was kept with (its inode: spareOrigin's second line). */
const spareListBound = (paths: DeployPaths): ShellText =>
  sh`[ "$(stat -c %i -- ${spareTree(paths)})" = "$(sed -n 2p ${spareOrigin(paths)} 2>/dev/null)" ]`;

/**
 * Defines `__ss_spare_rescue`: moves what was written into the spare since it was pruned (by a
 * process still running from that release) to shared/.rescued/<release>/, as the rescue at pruning
 * does, comparing the spare with the list kept at pruning (its release's manifest). A spare kept
 * by an older shipshape has no list and is not checked, nor is one whose list was kept for another
 * directory (its inode, in spareOrigin, tells). Returns non-zero, the reason on stderr, when the
 * spare cannot be read whole or a move fails: the spare must then stay as it is. Sets `__ss_spr`
 * to the spare's release.
 */
function defineSpareRescue(paths: DeployPaths): ShellText {
  const spare = spareTree(paths);
  const list = spareManifest(paths);
  const out = path.posix.join(paths.meta, 'spare.rescue');
  return sh`__ss_spare_rescue() {
  __ss_spr=$(sed -n 1p ${spareOrigin(paths)} 2>/dev/null) || :
  case "$__ss_spr" in ''|*/*|.|..) __ss_spr=spare ;; esac
  # A list that an older shipshape left beside another spare (it knows no list) says nothing here.
  if [ -f ${list} ] && ! ${spareListBound(paths)}; then rm -f ${list} ${spareOrigin(paths)} || return 1; fi
  [ -f ${list} ] || return 0
  __ss_move_written ${spare} ${list} ${out} "$__ss_spr" ${SPARE_MARKER}
}`;
}

/**
 * The same files, but those under the ephemeral paths (caches the app may rewrite, never rescued):
 * the probe's walk of the spare (ARGV[1]) against the list kept at pruning (ARGV[2]), both in the
 * manifest's records, in the same order (one find of one directory each).
 */
const SAME_BUT_EPHEMERAL = `BEGIN { RS = "\\0"; n = split(ENVIRON["__ss_eph"], e, "\\n") }
function kept(r,   i, p) {
  p = r; sub(/^[^\\t]*\\t[^\\t]*\\t[^\\t]*\\t/, "", p)
  for (i = 1; i <= n; i++) if (p == e[i] || index(p, e[i] "/") == 1) return 0
  return 1
}
FILENAME == ARGV[1] { if (kept($0)) a[++k] = $0; next }
kept($0) && $0 != a[++j] { bad = 1; exit }
END { exit bad || j != k }`;

/**
 * The probe's condition for offering the spare to a plan, which removes whatever the source does
 * not have: nothing was written into it since it was pruned (but into its ephemeral paths). That
 * is, the probe's walk of it (`walked`: spareFiles in a deploy, a temporary file in a dry run) is
 * the list kept at pruning; or it has no list bound to it (kept by an older shipshape, or never
 * live), which nothing can check. A spare not offered is replaced by the deploy's cleanup, which
 * moves what was written into it out first (defineRemoveRelease).
 */
export function spareUntouched(
  paths: DeployPaths,
  ephemeral: readonly string[],
  walked: ShellText,
): ShellText {
  const list = spareManifest(paths);
  const identical = sh`cmp -s ${walked} ${list}`;
  // Byte for byte the same is the usual answer, and cmp gives it in a tenth of awk's time (on the
  // probe's path, after both walks: 3 against 25 ms at 10,000 files).
  const same =
    ephemeral.length === 0
      ? identical
      : sh`{ ${identical} || __ss_eph=${ephemeral.join('\n')} awk ${SAME_BUT_EPHEMERAL} ${walked} ${list}; }`;
  return sh`{ [ ! -f ${list} ] || ! ${spareListBound(paths)} || ${same}; }`;
}

export function spareRescueNotes(stdout: string, sharedRoot: string): Note[] {
  return markerLines(stdout, SPARE_MARKER)
    .map((l) => l.split(' '))
    .map(([release, n]) => ({
      level: 'warn' as const,
      message: `release ${release}: ${n} file(s) were written into it late, after its check at pruning (by a process still running from it); moved to ${sharedRoot}/.rescued/${release}/ before the spare it became was replaced`,
    }));
}

/** Files moved out of a recycled spare by the upload: `<spare's release> <count>`. */
const SEED_MARKER = '@@shipshape-rescued-seed ';

/** The upload's own files for telling apart what was written into a recycled spare (stages/upload.ts). */
export interface SeedFiles {
  /** The probe's walk of the spare, in the manifest's records (planTakeSpare keeps it). */
  walk: string;
  /** The paths the plan removes, as read from stdin. */
  removed: string;
  /** The paths the plan hard-links from the live release. */
  relinked: string;
  /** The symlinks the plan keeps. */
  links: string;
  /** Paths to move; `.now` beside it holds the walk they come from. */
  out: string;
}

const rescuedDir = (paths: DeployPaths): string => path.posix.join(paths.shared, '.rescued');

/**
 * Defines `__ss_seed_move LIST` (after planTakeSpare, which sets `__ss_spr`): moves the NUL-ended
 * paths in LIST, relative to the release, to shared/.rescued/<the spare's release>/ as the rescue
 * at pruning does, counting them in `__ss_seed_n`. Non-zero when a move fails.
 */
export function defineSeedMove(paths: DeployPaths, releasePath: string): ShellText {
  return sh`__ss_seed_n=0
__ss_seed_move() {
  [ -s "$1" ] || return 0
  __ss_m=$(tr -cd '\\000' < "$1" | wc -c) || return 1
  [ "$__ss_m" != 0 ] || return 0
  (cd ${releasePath} && xargs -0 -r sh -c ${MOVE_EACH} ${rescuedDir(paths)}/"$__ss_spr") < "$1" || return 1
  __ss_seed_n=$((__ss_seed_n + __ss_m))
}`;
}

/** RECORD with the path as find was given it (%p), for a walk of some paths rather than the tree. */
const RECORD_AS_GIVEN = sh`'%s\\t%T@\\t%i\\t%p\\0'`;

/** Records (ARGV[2], paths prefixed `./`) that are not in the probe's walk (ARGV[1]): their paths. */
const NOT_WALKED = `BEGIN { RS = "\\0"; ORS = "\\0" }
FILENAME == ARGV[1] { was[$0] = 1; next }
{ r = $0; sub(/\\t\\.\\//, "\\t", r); if (!(r in was)) { sub(/^[^\\t]*\\t[^\\t]*\\t[^\\t]*\\t/, "", r); print r } }`;

/**
 * Before the plan's removals in a recycled spare: a file under a path that goes, written or
 * rewritten since the probe's walk (by a process still running from the spare's release), is
 * moved out first instead of being removed with it.
 */
export function seedRescueRemoved(releasePath: string, files: SeedFiles): ShellText {
  const now = `${files.out}.now`;
  // ./ first: a path that begins with - is no option to find. Nothing under them: no awk.
  const find = `for p do set -- "$@" "./$p"; shift; done; find "$@" -type f -printf "$0" 2>/dev/null; :`;
  return sh`if [ -f ${files.walk} ]; then
  (cd ${releasePath} && xargs -0 -r sh -c ${find} ${RECORD_AS_GIVEN} < ${files.removed}) > ${now}
  if [ -s ${now} ]; then
    LC_ALL=C awk ${NOT_WALKED} ${files.walk} ${now} > ${files.out} || exit 1
    __ss_seed_move ${files.out} || exit 1
  fi
fi`;
}

/** A symlink in the release's walk below: its type and path, where a file's record has its numbers. */
const LINK_AS_WRITTEN = sh`'%y\\t\\t\\t\\t%P\\0'`;

/**
 * What was written into the spare after the probe's walk of it, found in the release it became:
 * a file the walk did not see or saw otherwise, a symlink the plan does not keep; not the files
 * the plan hard-linked in (ARGV[2]). ARGV[4] is the release now: `f TAB record` or
 * `l TAB TAB TAB TAB path`.
 */
const WRITTEN_SINCE_WALK = `BEGIN { RS = "\\0"; ORS = "\\0" }
function path_of(r) { sub(/^[^\\t]*\\t[^\\t]*\\t[^\\t]*\\t/, "", r); return r }
FILENAME == ARGV[1] { was[path_of($0)] = $0; next }
FILENAME == ARGV[2] { relinked[$0] = 1; next }
FILENAME == ARGV[3] { link[$0] = 1; next }
{
  r = substr($0, 3); p = path_of(r)
  if (p in relinked) next
  if (substr($0, 1, 1) == "l") { if (!(p in link)) print p; next }
  if (!(p in was) || was[p] != r) print p
}`;

/**
 * The seed check's rescue in a recycled spare (stages/upload.ts: seedCheck), run when the release
 * does not hold exactly what the plan keeps: what was written into the spare between the probe's
 * walk and now moves out (__ss_seed_move), so that the release can be checked again instead of
 * being discarded with it. Non-zero when there is no walk to compare with or a move fails.
 */
export function seedRescue(releasePath: string, files: SeedFiles): ShellText {
  const now = `${files.out}.now`;
  const relinked = sh`"$([ -f ${files.relinked} ] && printf '%s' ${files.relinked} || printf /dev/null)"`;
  const walk = sh`find . -mindepth 1 \\( ${MANIFEST_FILES} -printf ${sh`'f\\t'`}${RECORD} \\) -o \\( -type l -printf ${LINK_AS_WRITTEN} \\)`;
  return sh`{ [ -f ${files.walk} ] &&
  (cd ${releasePath} && ${walk}) > ${now} &&
  LC_ALL=C awk ${WRITTEN_SINCE_WALK} ${files.walk} ${relinked} ${files.links} ${now} > ${files.out} &&
  __ss_seed_move ${files.out}; }`;
}

/** After the seed check: the marker for the notes, when anything was moved (stdout), or its words on failure (stderr). */
export function seedRescueReport(paths: DeployPaths, failed: boolean): ShellText {
  const said = 'file(s) written into the spare (release %s) since the probe read it were moved to %s';
  return failed
    ? sh`[ "$__ss_seed_n" = 0 ] ||
  printf ${`%s ${said}\n`} "$__ss_seed_n" "$__ss_spr" ${rescuedDir(paths)}/"$__ss_spr"/ >&2`
    : sh`[ "$__ss_seed_n" = 0 ] || printf '%s%s %s\\n' ${SEED_MARKER} "$__ss_spr" "$__ss_seed_n"`;
}

export function seedRescueNotes(stdout: string, sharedRoot: string): Note[] {
  return markerLines(stdout, SEED_MARKER)
    .map((l) => l.split(' '))
    .map(([release, n]) => ({
      level: 'warn' as const,
      message: `release ${release}: ${n} file(s) were written into it after this deploy's probe read it (by a process still running from it), on their way into the new release, which was built in it; moved to ${sharedRoot}/.rescued/${release}/`,
    }));
}

/** The cleanup's word on a spare it could not replace or give up (defineRemoveRelease). */
export function spareKeptNotes(stdout: string): Note[] {
  return markerLines(stdout, SPARE_KEPT_MARKER).map((l) => {
    const [release = '', pruned = '', why = ''] = l.split('\t');
    const instead = pruned
      ? `Release ${pruned} does not take its place (it is removed instead).`
      : 'It stays, although this upload mode keeps no spare.';
    return {
      level: 'warn' as const,
      message: `the spare (release ${release}, pruned earlier) was kept: what was written into it after it was pruned could not be read or moved to shared/.rescued/${why.trim() ? ` (${why.trim()})` : ''}. ${instead} Fix the permissions or move the files out of .deploy/spare by hand; every deploy that prunes a release tries again.`,
    };
  });
}

/** The files of the release this deploy will make the spare, listed ahead (planListAhead): `prune-<release>.list`. */
const listedAhead = (paths: DeployPaths, release: ShellText): ShellText =>
  sh`${paths.meta}/prune-${release}.list`;

/**
 * Lists, in the background while the deploy goes on, the files of the release this deploy's
 * cleanup will make the spare, as its manifest records them: the same bytes as the manifest
 * spare the cleanup its own walk of the release. That is safe for the spare alone. What the app
 * writes into it after this list was made stays in it, where it is told apart by the same
 * manifest: the next probe does not offer a spare written into (spareUntouched), and the cleanup
 * that replaces it moves what was written out first (defineSpareRescue). A release on its way to
 * the trash is always walked at cleanup, right before it goes. The list is written aside and
 * renamed: a listing the cleanup does not find whole is simply not used, and one still being made
 * (`.pid` beside it names its job) is waited for. The probe starts it for the release it guesses
 * (planGuessListAhead); the upload, for the one the plan names when that is another.
 */
export function planListAhead(paths: DeployPaths, release: string): ShellText {
  const dir = path.posix.join(paths.releases, release);
  return sh`if [ -d ${dir} ] && [ ! -L ${dir} ]; then
${startListAhead(sh`${dir}`, listedAhead(paths, sh`${release}`))}
fi`;
}

/** The listing's job itself (DIR a release directory), its pid beside the list; an older list goes first. */
function startListAhead(dir: ShellText, out: ShellText): ShellText {
  // Its own name: a job still running from an earlier deploy must not rename this one's half.
  const tmp = sh`${out}.$$`;
  // Its own stdin and stdout: the script's are the upload's archive and the SSH channel, which
  // would stay open until the listing is done.
  return sh`rm -f ${out}
{ (cd ${dir} && find . ${MANIFEST_FILES} -printf ${RECORD}) > ${tmp} && mv -f -- ${tmp} ${out}; } < /dev/null > /dev/null 2>&1 &
echo $! > ${out}.pid`;
}

/**
 * Probe fragment (a deploy's, under the lock): lists ahead (planListAhead) the release the cleanup
 * will most likely make the spare, from the start of the deploy rather than from its upload, so
 * that the cleanup right after the switch finds it made: the newest of those keep_releases prunes
 * by name (the keep_releases-th newest, counting the new release), unless `current` names it.
 * Lists left by earlier deploys go first. A wrong guess costs the walk; the upload then lists the
 * release the plan names. Sent to every host of a fleet: kept short.
 */
export function planGuessListAhead(paths: DeployPaths, keep: number): ShellText {
  return sh`__ss_r=${paths.releases}
${planDropListsAhead(paths)}
__ss_g=$(ls -r "$__ss_r" | grep -xE '[0-9]{8}-[0-9]{6}' | sed -n ${keep}p)
if [ -n "$__ss_g" ] && [ -d "$__ss_r/$__ss_g" ] && [ ! -L "$__ss_r/$__ss_g" ] && [ "$(readlink ${paths.current})" != "releases/$__ss_g" ]; then
__ss_la=${listedAhead(paths, sh`"$__ss_g"`)}
${startListAhead(sh`"$__ss_r/$__ss_g"`, sh`"$__ss_la"`)}
printf 'listed-ahead\t%s\n' "$__ss_g"
fi`;
}

/** After defineRemoveRelease, with an upload mode that keeps no spare: one left from before is given up. */
export const planRetireSpare: ShellText = sh`__ss_retire_spare`;

/**
 * After the removals: listings made ahead that no cleanup used (a release gone already, or one
 * that never went live, whose listing finished after its cleanup), halves of killed ones, the pids.
 */
export const planDropListsAhead = (paths: DeployPaths): ShellText => sh`rm -f ${paths.meta}/prune-*.list*`;

/** One release to prune, after defineRemoveRelease. */
export const planRemoveRelease = (release: string, to: 'trash' | 'spare'): ShellText =>
  sh`__ss_remove_release ${release} ${to}`;

/** A release a switch back left in place for want of its list from the switch: `<release>`. */
const UNLISTED_MARKER = '@@shipshape-kept-unlisted ';

/**
 * After defineRemoveRelease: a release that was live and is being left (a switch back) goes as a
 * pruned one does, what the app wrote into it moved out first. It went live, so its switch took
 * its list; without one the rescue would take it for a release that never went live and let it
 * go whole. It stays instead, and says so.
 */
export function planRemoveLeftRelease(paths: DeployPaths, release: string): ShellText {
  const dir = path.posix.join(paths.releases, release);
  return sh`if [ -n "$(__ss_manifest_of ${release})" ]; then __ss_remove_release ${release} trash
elif [ -d ${dir} ] && [ ! -L ${dir} ]; then printf '%s%s\\n' ${UNLISTED_MARKER} ${release}
fi`;
}

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
  const unlisted = markerLines(stdout, UNLISTED_MARKER).map((release) => ({
    level: 'warn' as const,
    message: `release ${release} was kept, not removed: it went live, but no list of its files was recorded at its switch (.deploy/manifests/${release}.list), so what the app wrote into it cannot be told apart from what was deployed. A later deploy prunes it without that check: move what the app wrote into it to ${sharedRoot}/ before then.`,
  }));
  return [...rescued, ...kept, ...unlisted];
}
