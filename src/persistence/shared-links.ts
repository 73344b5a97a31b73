import path from 'node:path';
import type { SharedFile } from './recipe-schema.js';
import { relativeLink, type DeployPaths } from '../layout/paths.js';
import { lines, sh, type ShellText } from '../remote/sh.js';
import { AWK_ONE_LINE } from '../remote/awk-one-line.js';
import { casePattern } from './each-entry.js';

export const MISSING_MARKER = '@@shipshape-missing ';
/** `<what> <path>`: what the shared stage did about a shared path shared/ did not hold yet. */
export const SHARED_MARKER = '@@shipshape-shared ';

const join = path.posix.join;

/**
 * Before removing or creating anything at `rel` inside the release, make sure no parent
 * component is a symlink: an uploaded `storage -> /var/lib/x` would otherwise send our
 * `rm -rf` or `mkdir -p` outside the release.
 */
export function parentsAreReal(releasePath: string, rel: string): ShellText {
  const checks = parentDirs(releasePath, rel);
  if (checks.length === 0) return sh`true`;
  return lines(
    ...checks.map(
      (p) =>
        sh`if [ -L ${p} ]; then printf 'refusing to link through the symlink %s in the release\n' ${p} >&2; exit 1; fi`,
    ),
  );
}

const parentDirs = (root: string, rel: string): string[] => {
  const parts = rel.split('/').slice(0, -1);
  return parts.map((_, i) => join(root, ...parts.slice(0, i + 1)));
};

/** The same check as a condition, for a caller that skips the entry instead of failing. */
export const hasRealParents = (root: string, rel: string): ShellText =>
  sh.join(
    parentDirs(root, rel).map((p) => sh`[ ! -L ${p} ]`),
    ' && ',
    sh`true`,
  );

/** Link text for release/<rel> -> shared/<rel>; the same from every release (all sit at releases/<name>). */
export const sharedTarget = (releasePath: string, sharedRoot: string, rel: string): string =>
  relativeLink(join(releasePath, rel), join(sharedRoot, rel));

/** The link text of a shared path in any release: they all sit at releases/<name>, so it is one. */
export const releaseSharedTarget = (paths: DeployPaths, rel: string): string =>
  sharedTarget(join(paths.releases, 'x'), paths.shared, rel);

export interface SharedLinkPlan {
  releasePath: string;
  sharedRoot: string;
  dirs: readonly string[];
  files: readonly SharedFile[];
  /** Paths whose uploaded copy may seed shared/ (`seed_shared`, or a dir's git-tracked files on a first deploy). */
  seeded: ReadonlySet<string>;
  /** The host's record of seeded paths (layout/paths.ts): each path is seeded once. */
  seededRecord: string;
  /** The release `current` points to, whose app-made copies of shared paths move into shared/. */
  liveReleasePath?: string;
  /**
   * Its manifest from its switch (layout/release-files.ts): what the deploy put there, not the app.
   * `tsv` is the older line-based form, rewritten as a list at `asList` when only it is there.
   */
  liveManifest?: { list: string; tsv: string; asList: string };
}

/** The line-based form made a list (NUL-separated, no inode: `-`); names hold no newline there. */
const LEGACY_AS_LIST = 's/^\\([^\\t]*\\t[^\\t]*\\t\\)/\\1-\\t/';

/**
 * Sets `__ss_lm` to the live release's list for the checks below: a release that went live under an
 * older shipshape has only the line-based form, and without it what its deploy put there would
 * be taken for the app's (a false stop).
 */
function liveListFor(plan: SharedLinkPlan): ShellText[] {
  const m = plan.liveManifest;
  if (!m) return [];
  return [
    sh`__ss_lm=${m.list}
if [ ! -f "$__ss_lm" ] && [ -f ${m.tsv} ]; then
  __ss_lm=${m.asList}
  tr '\\n' '\\0' < ${m.tsv} | sed -z ${LEGACY_AS_LIST} > "$__ss_lm"
fi`,
  ];
}

const liveList = (plan: SharedLinkPlan): ShellText => (plan.liveManifest ? sh`"$__ss_lm"` : sh`''`);
const absent = (p: string): ShellText => sh`{ [ ! -e ${p} ] && [ ! -L ${p} ]; }`;
const realFile = (p: string): ShellText => sh`{ [ -f ${p} ] && [ ! -L ${p} ]; }`;
const realDir = (p: string): ShellText => sh`{ [ -d ${p} ] && [ ! -L ${p} ]; }`;

/** True when the live release holds a real file (or dir) at rel, reached through real directories only. */
function liveHolds(plan: SharedLinkPlan, rel: string, kind: 'file' | 'dir'): ShellText {
  const live = plan.liveReleasePath;
  if (!live) return sh`false`;
  const at = join(live, rel);
  return sh`{ [ ! -L ${live} ] && ${hasRealParents(live, rel)} && ${kind === 'file' ? realFile(at) : realDir(at)}; }`;
}

/** Fails (exit `exitCode`) listing every required file that shared/ lacks and nothing can supply. */
export function planMissingCheck(plan: SharedLinkPlan, exitCode: number): ShellText[] {
  const required = plan.files.filter((f) => !f.optional);
  if (required.length === 0) return [];
  return [
    lines(
      sh`__missing=0`,
      ...required.map((f) => {
        const [shr, rel] = [join(plan.sharedRoot, f.path), join(plan.releasePath, f.path)];
        const seeded = plan.seeded.has(f.path) ? realFile(rel) : sh`false`;
        return sh`if ${absent(shr)} && ! ${seeded} && ! ${liveHolds(plan, f.path, 'file')}; then printf '%s%s\\n' ${MISSING_MARKER} ${f.path}; __missing=1; fi`;
      }),
      sh`[ "$__missing" = 0 ] || exit ${exitCode}`,
    ),
  ];
}

/** Of the live dir's files shared/ lacks (the second file), those the release's list (the first) lacks: one line each. */
const NOT_LISTED = `${AWK_ONE_LINE}
BEGIN { RS = "\\0" }
FILENAME == ARGV[1] { p = $0; for (i = 0; i < 3; i++) sub(/^[^\\t]*\\t/, "", p); listed[p] = 1; next }
!((ENVIRON["__ss_at"] "/" $0) in listed) { print one_line($0) }`;

/** The seed check's lines, one per entry the seed could not add; fails when there is one. */
const NOT_SEEDED = `${AWK_ONE_LINE}
BEGIN { RS = "\\0" } { print "not seeded into " ENVIRON["__ss_into"] ": " one_line($0); n++ } END { exit n > 0 }`;

/**
 * Shell functions of the shared stage. Adopting moves what the running app created inside the
 * live release into shared/ and puts a link in its place, so the live release keeps serving it
 * and every later release links it. A file goes by a hard link first and the link is then renamed
 * over it: no moment without the file, and a process holding it open (a SQLite connection) goes
 * on writing to the same inode, now in shared/. Where a hard link is not allowed (another owner
 * under fs.protected_hardlinks, another filesystem) it is renamed instead. SQLite's companion
 * files (-wal, -shm, -journal) move along. Owner and mode stay the app's.
 */
const shareFunctions = (): ShellText => sh`__ss_said() { printf '%s%s %s\\n' ${SHARED_MARKER} "$1" "$2"; }
__ss_adopt_file() {
  mkdir -p -- "\${2%/*}" || return 1
  if ! ln -- "$1" "$2" 2>/dev/null; then
    mv -n -T -- "$1" "$2" || return 1
    if [ -e "$1" ]; then printf 'could not move %s to %s\\n' "$1" "$2" >&2; return 1; fi
  fi
  for __ss_sfx in -wal -shm -journal; do
    if [ -f "$1$__ss_sfx" ] && [ ! -L "$1$__ss_sfx" ] && [ ! -e "$2$__ss_sfx" ]; then mv -T -- "$1$__ss_sfx" "$2$__ss_sfx" || return 1; fi
  done
  ln -s -- "$3" "$1.ss-link.$$" && mv -T -- "$1.ss-link.$$" "$1"
}
__ss_adopt_dir() {
  mkdir -p -- "\${2%/*}" && ln -s -- "$3" "$1.ss-link.$$" || return 1
  if ! mv -T -- "$1" "$2"; then rm -f -- "$1.ss-link.$$"; return 1; fi
  mv -T -- "$1.ss-link.$$" "$1"
}
# Files under the live release's own dir $1 (at $3 in it) that shared/ ($2) lacks and that its
# manifest ($4, from its switch) does not list: the app wrote them. No manifest: all of them count.
__ss_hidden() {
  [ -f "$4" ] || set -- "$1" "$2" "$3" /dev/null
  __ss_t=$(mktemp) || return 1
  if ! (cd -- "$1" && find . -type f -exec sh -c '
    s=$1; shift
    for f do
      if [ ! -e "$s/$f" ]; then printf "%s\\0" "\${f#./}"; fi
    done' sh "$2" {} +) > "$__ss_t"; then
    rm -f -- "$__ss_t"
    return 1
  fi
  __ss_at=$3 awk ${NOT_LISTED} "$4" "$__ss_t"
  __ss_rc=$?
  rm -f -- "$__ss_t"
  return "$__ss_rc"
}
# shared/ had the dir before deploy.yml shared it (made by hand, an admin's link to another disk) while
# the live release kept a real one: what the app wrote there would vanish from its view at the switch.
__ss_keep_in_view() {
  if ! __ss_h=$(__ss_hidden "$1" "$2" "$4" "$3"); then
    printf 'could not read %s, the live release'"'"'s own %s, to compare it with %s (above)\\n' "$1" "$4" "$2" >&2
    return 1
  fi
  [ -n "$__ss_h" ] || return 0
  printf '%s holds %s file(s) the app wrote that %s lacks (%s): the new release links %s instead, so the app would no longer see them.\\n' \\
    "$1" "$(printf '%s\\n' "$__ss_h" | wc -l)" "$2" "$(printf '%s\\n' "$__ss_h" | head -n 3 | tr '\\n' ' ')" "$4" >&2
  printf 'Copy them into %s as their owner (cp -Rn %s/. %s/), or remove %s if it is empty, and deploy again.\\n' "$2" "$1" "$2" "$2" >&2
  return 1
}
# The same for a file newly shared: the live release's own $1 goes out of the app's view unless it is
# what the deploy put there ($3, its manifest: same size and time) or what shared/ ($2) already holds.
# SQLite in WAL mode keeps committed writes in $1-wal until a checkpoint: neither check sees them.
__ss_keep_file_in_view() {
  if [ -s "$1-wal" ] && ! cmp -s -- "$1-wal" "$2-wal"; then
    printf '%s holds writes of the app that %s lacks (SQLite keeps them there until a checkpoint): ' "$1-wal" "$2" >&2
    printf 'the new release links %s instead, so the app would no longer see them.\\n' "$4" >&2
    printf 'As its owner, checkpoint it (sqlite3 %s "pragma wal_checkpoint(truncate)") or stop the app, ' "$1" >&2
    printf 'then copy it over (cp %s %s), and deploy again.\\n' "$1" "$2" >&2
    return 1
  fi
  cmp -s -- "$1" "$2" && return 0
  __ss_now=$(find "$1" -maxdepth 0 -printf '%s\\t%T@') && [ -f "$3" ] &&
    __ss_at=$4 __ss_now=$__ss_now awk 'BEGIN { RS = "\\0" }
{ p = $0; for (i = 0; i < 3; i++) sub(/^[^\\t]*\\t/, "", p) }
p == ENVIRON["__ss_at"] && index($0, ENVIRON["__ss_now"] "\\t") == 1 { found = 1; exit }
END { exit !found }' "$3" && return 0
  printf '%s is not the file its release went live with (the app wrote it), and %s differs from it (or could not be read): ' "$1" "$2" >&2
  printf 'the new release links %s instead, so the app would no longer see it.\\n' "$4" >&2
  printf 'Keep the one the app should use: copy it over as its owner (cp %s %s), or move the other away, and deploy again.\\n' "$1" "$2" >&2
  return 1
}
__ss_link() {
  rm -rf -- "$1" && mkdir -p -- "\${1%/*}" && ln -s -- "$2" "$1"
}
# Adds to the shared dir $2 what it lacks of the seed $1, replacing nothing. Not \`cp -Rn\`: its status
# when it skips a file changed across coreutils releases (9.2 made a skip an error, 9.5 undid it with a
# warning), so it went unchecked and a copy that failed went live. tar --skip-old-files creates each file
# with O_EXCL, skips what exists with status 0 (GNU tar 1.24 on), fails on a file it cannot write, and
# leaves alone what it skips (cp -p failed on the times of an existing directory the app owns).
__ss_seed_dir() {
  __ss_seed_rc=0
  if ! tar -C "$1" -cf - . | tar -C "$2" --skip-old-files --no-same-owner -xpf -; then
    # A full disk leaves the file tar was writing cut short, and a later seed skips it as it skips any.
    printf 'seeding %s failed (tar, above); if the disk was full, the file it was writing stays cut short: remove it\n' "$2" >&2
    __ss_seed_rc=1
  fi
  # dash has no pipefail, so the first tar's status is lost: every entry of the seed must now be in $2.
  # One whose directory is something else there (a file, a link to nothing) says so: that stays.
  __ss_t=$(mktemp) || return 1
  (cd -- "$1" && find . -mindepth 1 -exec sh -c '
    for e do
      if [ -e "$0/$e" ] || [ -L "$0/$e" ]; then continue; fi
      p=\${e%/*} why=
      if [ ! -d "$0/$p" ] && { [ -e "$0/$p" ] || [ -L "$0/$p" ]; }; then
        why=" (\${p#./} there is not a directory and is kept: move it away for the seed to add this)"
      fi
      printf "%s%s\\0" "\${e#./}" "$why"
    done' "$2" {} +) > "$__ss_t" || __ss_seed_rc=1
  __ss_into=$2 awk ${NOT_SEEDED} "$__ss_t" >&2 || __ss_seed_rc=1
  rm -f -- "$__ss_t"
  return "$__ss_seed_rc"
}`;

/**
 * One shared dir: adopted from the live release, created from the upload's seed, or created empty;
 * then linked. A seed that arrives for a dir shared/ already holds (made by `deploy setup`, or
 * adopted just now) adds only the files it lacks: nothing in shared/ is overwritten.
 */
function shareDir(plan: SharedLinkPlan, d: string): ShellText {
  const [shr, rel] = [join(plan.sharedRoot, d), join(plan.releasePath, d)];
  const target = sharedTarget(plan.releasePath, plan.sharedRoot, d);
  const seed = plan.seeded.has(d) ? sh`${realDir(rel)}` : sh`false`;
  const live = plan.liveReleasePath ? join(plan.liveReleasePath, d) : '';
  return lines(
    parentsAreReal(plan.releasePath, d),
    sh`if ${absent(shr)}; then
  mkdir -p ${path.posix.dirname(shr)}
  if ${liveHolds(plan, d, 'dir')}; then __ss_adopt_dir ${live} ${shr} ${target}; __ss_said adopted ${d}
  elif ${seed}; then mv -T -- ${rel} ${shr}; __ss_said seeded ${d}
  else mkdir ${shr}; __ss_said created ${d}
  fi
elif ${liveHolds(plan, d, 'dir')}; then
  __ss_keep_in_view ${live} ${shr} ${liveList(plan)} ${d}
fi
if ${seed}; then
  __ss_seed_dir ${rel} ${shr}
  __ss_said seeded ${d}
fi`,
    sh`__ss_link ${rel} ${target}`,
  );
}

/**
 * One shared file: seeded from the upload (only with seed_shared), adopted from the live release,
 * created empty (when_absent: empty), or left to be created through the link; then linked. A
 * file shipshape itself puts into shared/ is not world-readable (0640).
 */
function shareFile(plan: SharedLinkPlan, f: SharedFile): ShellText {
  const [shr, rel] = [join(plan.sharedRoot, f.path), join(plan.releasePath, f.path)];
  const target = sharedTarget(plan.releasePath, plan.sharedRoot, f.path);
  const seed = plan.seeded.has(f.path) ? realFile(rel) : sh`false`;
  const live = plan.liveReleasePath ? join(plan.liveReleasePath, f.path) : '';
  const dir = path.posix.dirname(shr);
  // shared/ itself keeps the mode it has; a directory made for the file gets the writable mode.
  const modeDir = dir === plan.sharedRoot ? sh`:` : sh`__ss_mode ${dir}`;
  const whenAbsent =
    f.optional && f.when_absent === 'empty'
      ? // Data the app writes: the file and its directory, where SQLite puts its journal.
        sh`mkdir -p ${dir}
    ${modeDir}
    (umask 007 && : > ${shr})
    __ss_mode ${shr}
    __ss_said empty ${f.path}`
      : sh`mkdir -p ${dir}; __ss_said absent ${f.path}`;
  return lines(
    parentsAreReal(plan.releasePath, f.path),
    sh`if ${absent(shr)}; then
  if ${seed}; then
    mkdir -p ${dir}
    mv -T -- ${rel} ${shr}
    chmod 0640 ${shr}
    __ss_said seeded ${f.path}
  elif ${liveHolds(plan, f.path, 'file')}; then
    # The app wrote it in a directory it may write: the one made for it here must be so too (SQLite's journal).
    if [ ! -d ${dir} ]; then
      mkdir -p ${dir}
      ${modeDir}
    fi
    __ss_adopt_file ${live} ${shr} ${target}
    __ss_said adopted ${f.path}
  else
    ${whenAbsent}
  fi
elif ${liveHolds(plan, f.path, 'file')}; then
  __ss_keep_file_in_view ${live} ${shr} ${liveList(plan)} ${f.path}
fi`,
    sh`__ss_link ${rel} ${target}`,
  );
}

/**
 * Shared entries: nothing in shared/ is removed or overwritten here; only the release's own copy
 * at a shared path is replaced by the link. Needs `__ss_mode` (stages/writable.ts) defined first.
 */
export function planSharedLinks(plan: SharedLinkPlan): ShellText[] {
  const all = [...plan.dirs, ...plan.files.map((f) => f.path)];
  if (all.length === 0) return [];
  return [
    shareFunctions(),
    ...liveListFor(plan),
    ...plan.dirs.map((d) => shareDir(plan, d)),
    ...plan.files.map((f) => shareFile(plan, f)),
    // From now on the upload never seeds these again on this host (stages/probe.ts).
    sh`for __p in ${all}; do grep -qxF -- "$__p" ${plan.seededRecord} 2>/dev/null || printf '%s\n' "$__p" >> ${plan.seededRecord}; done`,
  ];
}

/**
 * Shared paths this host linked before (its seeded record lists every one) that deploy.yml no
 * longer declares, while the live release still links them: the new release will not, so what the
 * app wrote there stays in shared/ where the new release does not read it. Nothing is moved or
 * deleted (the user may mean it, and a rollback links it again); the deploy says so.
 */
export function planDroppedCheck(plan: SharedLinkPlan): ShellText[] {
  const live = plan.liveReleasePath;
  if (!live) return [];
  const all = [...plan.dirs, ...plan.files.map((f) => f.path)];
  // A path inside a declared dir is still read through it.
  const declared = all.length
    ? sh`${casePattern(all)}|${sh.join(
        all.map((d) => sh`${`${d}/`}*`),
        '|',
      )}`
    : sh`''`;
  return [
    sh`if [ -f ${plan.seededRecord} ] && [ ! -L ${live} ]; then
  while IFS= read -r __p; do
    case "$__p" in ${declared}) continue ;; esac
    __l=${live}/$__p __s=${plan.sharedRoot}/$__p __r=${plan.releasePath}/$__p
    if [ -L "$__l" ] && [ "$__l" -ef "$__s" ] && ! [ "$__r" -ef "$__s" ]; then printf '%s%s %s\\n' ${SHARED_MARKER} dropped "$__p"; fi
  done < ${plan.seededRecord}
fi`,
  ];
}
