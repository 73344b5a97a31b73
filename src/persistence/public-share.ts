import path from 'node:path';
import { relativeLink } from '../layout/paths.js';
import { PENDING_DIR, PENDING_LIST } from '../layout/release-files.js';
import { defineSayLine, markerLines } from '../remote/markers.js';
import { lines, sh, type ShellText } from '../remote/sh.js';
import { isManifestSafe, type AppPersistence, type PublicItem } from './app-persistence.js';
import type { PublicShared } from '../source/upload-plan.js';
import { casePattern, eachEntry } from './each-entry.js';
import { hasRealParents, parentsAreReal } from './shared-links.js';

/** stdout lines of the public-sharing script; `readPublicReport` turns them into reporter lines. */
const PUBLIC_MARKER = '@@shipshape-public ';

const join = path.posix.join;

export interface PublicSharePlan {
  release: string;
  releasePath: string;
  sharedRoot: string;
  publicDir: string;
  exclude: readonly string[];
  /** Top-level entries of public_dir as uploaded; links stay per release. */
  entries: readonly { name: string; type: 'file' | 'dir' | 'link' }[];
  items: readonly PublicItem[];
  /**
   * Files of `items` (relative to publicDir) the upload did not send because shared/ holds them as
   * the previous deploy placed them: counted as unchanged, neither read nor hashed here.
   */
  alreadyPlaced?: ReadonlySet<string>;
  /** Append-only `sha256<TAB>path` lines, last wins: what deploys put in shared, so a user's edit is recognised. */
  placedManifest: string;
  /** The live release's directory, whose app-created public entries move into shared. */
  liveReleasePath?: string;
  liveRelease?: string;
}

/**
 * The shared stage's counts when updates wait for the switch, which reports them once it knows
 * which went in. Beside the updates' directory, never inside it, so no public file can be named so.
 */
const pendingCounts = (p: Pick<PublicSharePlan, 'releasePath' | 'publicDir'>): string =>
  join(p.releasePath, PENDING_DIR, `${p.publicDir}.counts`);

/**
 * Helpers of the script. Counters are shell variables because the whole plan runs in one shell;
 * each function returns non-zero on a failed write so the caller's `&&` chain stops.
 */
function helpers(p: PublicSharePlan): ShellText {
  const R = join(p.releasePath, p.publicDir);
  const S = join(p.sharedRoot, p.publicDir);
  return lines(
    sh`__R=${R} __S=${S} __M=${p.placedManifest} __U=${join(p.releasePath, PENDING_DIR, p.publicDir)} __UL=${join(p.releasePath, PENDING_LIST)}`,
    sh`__P=${relativeLink(join(R, 'x'), join(S, 'x')).slice(0, -2)}`,
    sh`__ss_added=0 __ss_updated=0 __ss_kept=0 __ss_same=0 __ss_linked=0 __ss_err=0`,
    defineSayLine(sh`__ss_say`, PUBLIC_MARKER),
    // ENVIRON, not awk -v: -v would interpret backslashes in the path.
    sh`__ss_placed() { [ -f "$__M" ] || return 0; __ssp="$1" awk -F '\t' '$2 == ENVIRON["__ssp"] { h = $1 } END { print h }' "$__M"; }`,
    // A freshly moved entry has no current line in the manifest: append without the lookup (no fork).
    sh`__ss_append() { printf '%s\t%s\n' "$2" "$1" >> "$__M"; }`,
    sh`__ss_record() { [ "$(__ss_placed "$1")" = "$2" ] || printf '%s\t%s\n' "$2" "$1" >> "$__M"; }`,
    sh`__ss_hash() { sha256sum < "$1" | cut -c1-64; }`,
    // A file the release has: copied when shared lacks it; replaced only when shared still holds what a deploy put
    // there. The replacement waits in the release until the switch (planApplyUpdates), so a deploy that fails
    // before it changes nothing the live release serves.
    sh`__ss_sync() {
  __d="$__S/$1"
  if [ ! -e "$__d" ] && [ ! -L "$__d" ]; then
    [ -e "$__R/$1" ] || { __ss_kept=$((__ss_kept + 1)); return 0; }
    mkdir -p "$(dirname -- "$__d")" && cp -p "$__R/$1" "$__d" && { [ -n "$3" ] || __ss_record "$1" "$2"; } && __ss_added=$((__ss_added + 1))
    return
  fi
  if [ -L "$__d" ] || [ ! -f "$__d" ]; then __ss_say conflict "$1"; __ss_kept=$((__ss_kept + 1)); return 0; fi
  __h=$(__ss_hash "$__d") || return 1
  if [ "$__h" = "$2" ]; then __ss_same=$((__ss_same + 1)); __ss_record "$1" "$2"; return; fi
  if [ -n "$3" ] || [ "$(__ss_placed "$1")" != "$__h" ]; then __ss_say conflict "$1"; __ss_kept=$((__ss_kept + 1)); return 0; fi
  mkdir -p "$(dirname -- "$__U/$1")" && cp -p "$__R/$1" "$__U/$1" && printf '%s\t%s\t%s\n' "$2" "$1" "$__h" >> "$__UL" && __ss_updated=$((__ss_updated + 1))
}`,
    sh`__ss_mkdir() { [ -d "$__S/$1" ] || mkdir -p "$__S/$1"; }`,
    // Same kind on both sides (dir and dir, file and file), or shared wins and the entry is a conflict.
    sh`__ss_same_kind() {
  __a=0 __b=0
  [ -d "$__R/$1" ] && __a=1
  [ -d "$__S/$1" ] && __b=1
  [ $__a = $__b ] && return 0
  __ss_say conflict "$1"
  __ss_kept=$((__ss_kept + 1))
  return 1
}`,
    // -T: if something reappeared under the name, fail instead of creating the link inside it.
    sh`__ss_link() { ln -s -T "$__P/$2" "$1/$2"; }`,
    sh`command -v __ss_mode >/dev/null 2>&1 || __ss_mode() { :; }`,
  );
}

function entryCommand(p: PublicSharePlan, name: string): ShellText {
  const all = p.items.filter((i) => i.path === name || i.path.startsWith(`${name}/`));
  const inside = all.filter((i) => !p.alreadyPlaced?.has(i.path));
  const placed = all.length - inside.length;
  const records = inside
    .filter((i) => i.type === 'file' && isManifestSafe(i.path))
    .map((i) => sh`__ss_append ${i.path} ${i.sha256 ?? ''}`);
  const syncs = inside.map((i) =>
    i.type === 'dir'
      ? sh`__ss_mkdir ${i.path}`
      : sh`__ss_sync ${i.path} ${i.sha256 ?? ''} ${isManifestSafe(i.path) ? '' : 'unsafe-name'}`,
  );
  const count = inside.filter((i) => i.type === 'file').length;
  return lines(
    sh`if [ ! -e "$__S"/${name} ] && [ ! -L "$__S"/${name} ]; then`,
    sh`  # New to shared/: the release's whole entry moves there, its files recorded as placed.`,
    sh`  mv -T "$__R"/${name} "$__S"/${name}`,
    ...records,
    sh`  __ss_added=$((__ss_added + ${count}))`,
    sh`  __ss_say moved ${name}`,
    sh`else`,
    // A file and a dir of one name: shared wins (a conflict); otherwise each item is synced.
    sh`  if __ss_same_kind ${name}; then`,
    ...syncs,
    // The cost of an entry is what this upload sent of it: files it did not send are not looked at.
    placed ? sh`    __ss_same=$((__ss_same + ${placed}))` : sh`    :`,
    sh`  fi`,
    sh`  rm -rf -- "$__R"/${name}`,
    sh`fi`,
    sh`__ss_link "$__R" ${name}`,
  );
}

/**
 * The stage's stdin: the commands for each shareable entry, one per line. They run by `eval` under
 * the script's `set -e`, so the first that fails ends the script there. Built with `sh` like every
 * other command.
 */
export function planPublicEntries(p: PublicSharePlan): string {
  return lines(...shareableEntries(p).map((e) => entryCommand(p, e.name))).text;
}

const shareableEntries = (p: Pick<PublicSharePlan, 'entries' | 'exclude'>) =>
  p.entries.filter((e) => e.type !== 'link' && !p.exclude.includes(e.name));

/**
 * For the upload plan: the shared entry of public_dir a source path lies in, and the public files
 * the probe found unsettled (gone from shared/, or an update still waiting), as source paths.
 */
export function publicShared(
  p: Pick<AppPersistence, 'public_dir' | 'public_exclude' | 'publicEntries'>,
  unsettled: ReadonlySet<string>,
): PublicShared | undefined {
  const pd = p.public_dir;
  if (!pd) return undefined;
  const names = new Set(
    shareableEntries({ entries: p.publicEntries, exclude: p.public_exclude }).map((e) => e.name),
  );
  const prefix = `${pd}/`;
  return {
    entryOf: (file) => {
      if (!file.startsWith(prefix)) return undefined;
      const slash = file.indexOf('/', prefix.length);
      const name = file.slice(prefix.length, slash < 0 ? undefined : slash);
      return names.has(name) ? `${prefix}${name}` : undefined;
    },
    unsettled: new Set([...unsettled].map((u) => `${prefix}${u}`)),
  };
}

/**
 * Real entries of `dir` that are neither excluded nor deployed move into shared (or, when shared
 * already has the name, to shared/.rescued/<release>/; in the live release, a file newer than
 * shared's replaces it, which goes to shared/.history/<release>/) and are replaced by a link.
 * Links are left.
 */
function adoptLoop(
  p: PublicSharePlan,
  dir: string,
  release: string,
  deployed: readonly string[],
  verb: 'adopted' | 'carried',
): ShellText {
  const Q = join(p.sharedRoot, '.rescued', release, p.publicDir);
  const H = join(p.sharedRoot, '.history', release, p.publicDir);
  const skipDeployed = deployed.length
    ? sh`case "$__n" in ${casePattern(deployed)}) continue ;; esac`
    : sh`:`;
  return lines(
    sh`__D=${dir}`,
    eachEntry(
      sh`"$__D"`,
      lines(
        skipExcluded(p),
        skipDeployed,
        sh`[ -L "$__p" ] && continue`,
        // Renaming a directory to another parent rewrites its `..`, which needs write permission on it: a
        // directory the app made 0755 (writable_mode chmod, umask 022) cannot move, and nothing does.
        sh`if [ -d "$__p" ] && [ ! -w "$__p" ]; then
  printf '%s (owned by %s): the deploy user may not write it, which moving a directory needs.\n' "$__p" "$(stat -c %U -- "$__p")" >&2
  printf 'Nothing was moved. As its owner: chmod g+w %s (the deploy user shares its group), then deploy again;\n' "$__p" >&2
  printf 'writable_mode acl keeps what the app makes in public_dir writable for the deploy user.\n' >&2
  __ss_err=1; break
fi`,
        // Into shared/ when the name is free there; when it is taken, shared wins and this is kept in .rescued/,
        // unless the running app put a newer file of its own over its link (Symfony's dumpFile, Laravel's
        // replace(): a rename). That is what it serves now, as a write through the link would have been
        // shared's: it goes into shared/, the version it replaced to .history/ (beside one kept there before, at a
        // deploy that failed after this stage: a numbered backup, never over it).
        sh`if [ ! -e "$__S/$__n" ] && [ ! -L "$__S/$__n" ]; then
  mv -T "$__p" "$__S/$__n" || { __ss_err=1; break; }
  __ss_say ${verb} "$__n"
elif ${verb === 'adopted' ? sh`[ -f "$__p" ] && [ -f "$__S/$__n" ] && [ ! -L "$__S/$__n" ] && [ "$__p" -nt "$__S/$__n" ]` : sh`false`}; then
  { mkdir -p ${H} && mv -T --backup=numbered "$__S/$__n" ${H}/"$__n" && mv -T "$__p" "$__S/$__n"; } || { __ss_err=1; break; }
  __ss_say replaced "$__n"
else
  { mkdir -p ${Q} && mv -T --backup=numbered "$__p" ${Q}/"$__n"; } || { __ss_err=1; break; }
  __ss_say rescued ${`${Q}/`}"$__n"
fi`,
        sh`ln -s -T "$__P/$__n" "$__p" || __ss_say warn "could not link $__n into $__D"`,
      ),
    ),
    sh`[ "$__ss_err" = 0 ]`,
  );
}

const skipExcluded = (p: PublicSharePlan): ShellText =>
  p.exclude.length
    ? sh`case "$__n" in .shared-exclusions|${casePattern(p.exclude)}) continue ;; esac`
    : sh`case "$__n" in .shared-exclusions) continue ;; esac`;

/** Where the script holds the per-entry commands (planPublicEntries): the stage's input (Stage.input). */
export const PUBLIC_ENTRIES = sh`__ss_entries`;

/**
 * Entry-level sharing of public_dir: the directory stays real in every release; each top-level
 * entry that is not excluded becomes a link into shared/<public_dir>/. See docs/persistence.md.
 * Nothing in shared is deleted; a replaced file goes to shared/.history/<release>/.
 */
export function planPublicShare(p: PublicSharePlan): ShellText[] {
  const S = join(p.sharedRoot, p.publicDir);
  const skip = skipExcluded(p);
  const out: ShellText[] = [
    helpers(p),
    // A linked parent (an uploaded `web` in web/public) would send every mv below outside the release.
    parentsAreReal(p.releasePath, p.publicDir),
    sh`if [ -L "$__R" ]; then
  printf '%s is a symlink in the release; public_dir must be a real directory\n' ${p.publicDir} >&2
  exit 1
fi
mkdir -p "$__R"`,
    sh`if [ ! -d "$__S" ]; then
  mkdir -p "$__S"
  __ss_mode "$__S"
  __ss_say created ${S}
fi`,
    // Excluded names left in shared/ (by the seed script's whole-directory layout) are reported, never linked.
    sh`for __n in ${p.exclude.length ? p.exclude : ['']}; do
  if [ -n "$__n" ] && { [ -e "$__S/$__n" ] || [ -L "$__S/$__n" ]; }; then __ss_say excluded-in-shared "$__n"; fi
done`,
  ];
  const shareable = shareableEntries(p);
  if (p.liveReleasePath) {
    const L = join(p.liveReleasePath, p.publicDir);
    // The running app made these inside the live release; they move to shared and stay served by a link.
    out.push(
      sh`if [ -d ${L} ] && [ ! -L ${L} ] && [ ! -L ${p.liveReleasePath} ] && ${hasRealParents(p.liveReleasePath, p.publicDir)}; then
  ${adoptLoop(p, L, p.liveRelease ?? 'live', [], 'adopted')}
fi`,
    );
  }
  // A release seeded from the previous one (incremental upload) may carry copies of such entries too.
  out.push(
    adoptLoop(
      p,
      join(p.releasePath, p.publicDir),
      p.release,
      shareable.map((e) => e.name),
      'carried',
    ),
  );
  // The per-entry commands grow with public/ (one per file): the stage's input, not the script's text.
  if (shareable.length) out.push(sh`eval "$${PUBLIC_ENTRIES}"`);
  out.push(
    lines(
      eachEntry(
        sh`"$__S"`,
        lines(
          skip,
          // Entries only shared/ holds (uploaded once, or made by the app) are linked into the new release too.
          sh`if [ ! -e "$__R/$__n" ] && [ ! -L "$__R/$__n" ]; then
  __ss_link "$__R" "$__n" || { __ss_err=1; break; }
  __ss_linked=$((__ss_linked + 1))
fi`,
        ),
      ),
      sh`[ "$__ss_err" = 0 ]`,
    ),
    sh`printf '%s\n' ${exclusionDoc(p)} > "$__S/.shared-exclusions"`,
    sh`__ss_say summary "$__ss_added" "$__ss_updated" "$__ss_kept" "$__ss_same" "$__ss_linked"`,
    // The switch may still find an update's file edited meanwhile (planApplyUpdates): it tells the final counts.
    sh`if [ "$__ss_updated" != 0 ]; then
  printf '%s %s %s %s %s\n' "$__ss_added" "$__ss_updated" "$__ss_kept" "$__ss_same" "$__ss_linked" > ${pendingCounts(p)}
fi`,
  );
  return out;
}

/** The seed's `.shared-exclusions` note, kept so a person on the server sees the rule. */
function exclusionDoc(p: PublicSharePlan): string[] {
  return [
    '# Public folder sharing - the "one-line rule" (written by shipshape on every deploy)',
    `# Release: ${p.release}`,
    '# RULE: share every top-level entry of the public directory EXCEPT build artifacts and framework code.',
    '# Each shared entry is a symlink from releases/<release>/' + p.publicDir + '/<entry> to this directory.',
    '# EXCLUDED (each release keeps its own):',
    ...p.exclude.map((e) => `# - ${e}`),
    '# An excluded name found here is never linked and never deleted; move it away when you are sure.',
  ];
}

export interface PublicReport {
  added: number;
  updated: number;
  leftAlone: number;
  unchanged: number;
  linked: number;
  conflicts: string[];
  moved: string[];
  adopted: string[];
  /** Files the running app put over its links, newer than shared's: now shared's. */
  replaced: string[];
  rescued: string[];
  excludedInShared: string[];
  warnings: string[];
}

/** Updates the switch could not put into shared (planApplyUpdates): paths inside public_dir. */
export const readNotApplied = (stdout: string): string[] =>
  markerLines(stdout, PUBLIC_MARKER)
    .filter((l) => l.startsWith(`${APPLY_FAILED} `))
    .map((l) => l.slice(APPLY_FAILED.length + 1));

export function readPublicReport(stdout: string): PublicReport | undefined {
  const r: PublicReport = {
    added: 0,
    updated: 0,
    leftAlone: 0,
    unchanged: 0,
    linked: 0,
    conflicts: [],
    moved: [],
    adopted: [],
    replaced: [],
    rescued: [],
    excludedInShared: [],
    warnings: [],
  };
  let seen = false;
  for (const body of markerLines(stdout, PUBLIC_MARKER)) {
    const sp = body.indexOf(' ');
    const [kind, rest] = sp < 0 ? [body, ''] : [body.slice(0, sp), body.slice(sp + 1)];
    if (kind === 'summary') {
      seen = true;
      const [a, u, k, s, l] = rest.split(' ').map(Number);
      Object.assign(r, {
        added: a ?? 0,
        updated: u ?? 0,
        leftAlone: k ?? 0,
        unchanged: s ?? 0,
        linked: l ?? 0,
      });
    } else if (kind === 'conflict') r.conflicts.push(rest);
    else if (kind === 'moved') r.moved.push(rest);
    else if (kind === 'adopted' || kind === 'carried') r.adopted.push(rest);
    else if (kind === 'replaced') r.replaced.push(rest);
    else if (kind === 'rescued') r.rescued.push(rest);
    else if (kind === 'excluded-in-shared') r.excludedInShared.push(rest);
    else if (kind === 'warn') r.warnings.push(rest);
  }
  return seen ? r : undefined;
}

/**
 * Part of the symlink phase, just after the switch: the shared files this release updates go into
 * place, each replaced version kept in shared/.history/<release>/, and are recorded as placed.
 * Before the switch they would change what the old release serves, and a failure there would
 * leave it serving new files. Each file is replaced by one rename, so a reader sees the old or the
 * new version, never none. `current` has moved by now, so a file that cannot be placed does not
 * fail the deploy: it is reported (APPLY_FAILED) and waits in the release.
 */
const APPLY_FAILED = 'not-applied';

export function planApplyUpdates(p: {
  releasePath: string;
  sharedRoot: string;
  release: string;
  publicDir: string;
  placedManifest: string;
}): ShellText {
  const list = join(p.releasePath, PENDING_LIST);
  const pending = join(p.releasePath, PENDING_DIR);
  const counts = pendingCounts(p);
  const S = join(p.sharedRoot, p.publicDir);
  const H = join(p.sharedRoot, '.history', p.release, p.publicDir);
  const U = join(pending, p.publicDir);
  return lines(
    sh`if [ -f ${list} ]; then __ue=0 __ss_late=0`,
    // The old version is kept by a hard link (no copy), or a copy where links are not possible.
    sh`  __ss_keep_old() { [ ! -e ${S}/"$1" ] || ln -f ${S}/"$1" ${H}/"$1" 2>/dev/null || cp -p ${S}/"$1" ${H}/"$1"; }
  __ss_place() { mkdir -p "$(dirname -- ${H}/"$1")" && __ss_keep_old "$1" && mv -f ${U}/"$1" ${S}/"$1"; }`,
    // The shared stage found shared's copy as a deploy placed it (hash $2), but someone may have saved
    // theirs since: theirs wins, as it would have there. A file gone meanwhile is placed, as the shared
    // stage adds one shared lacks. An unreadable file does not match, so it is left alone too.
    sh`  __ss_edited() {
    [ -L ${S}/"$1" ] && return 0
    [ -e ${S}/"$1" ] || return 1
    [ -f ${S}/"$1" ] || return 0
    [ "$(sha256sum < ${S}/"$1" | cut -c1-64)" != "$2" ]
  }`,
    // IFS is a tab: the new hash, the path (which has no tab: such names are never updated), the hash
    // the shared stage compared. A file left alone is not recorded, as in the shared stage: the
    // placed manifest keeps the hash its copy no longer has, and its update is not retried.
    sh`  while IFS='	' read -r __h __f __o; do
    if __ss_edited "$__f" "$__o"; then __ss_late=$((__ss_late + 1)); printf '%s%s %s\n' ${PUBLIC_MARKER} conflict "$__f"
    elif __ss_place "$__f"; then printf '%s\t%s\n' "$__h" "$__f" >> ${p.placedManifest} || __ue=1
    else __ue=1; printf '%s%s %s\n' ${PUBLIC_MARKER} ${APPLY_FAILED} "$__f"
    fi
  done < ${list}`,
    // The shared stage's counts, with the updates found edited here moved to "left alone".
    sh`  if [ -f ${counts} ] && read -r __a __u __k __s __l < ${counts}; then
    printf '%s%s %s %s %s %s %s\n' ${PUBLIC_MARKER} summary "$__a" $((__u - __ss_late)) $((__k + __ss_late)) "$__s" "$__l"
  fi`,
    sh`  if [ "$__ue" = 0 ]; then rm -rf -- ${pending} ${list} || :; fi`,
    sh`fi; :`,
  );
}
