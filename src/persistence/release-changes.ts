import path from 'node:path';
import type { Note } from '../definitions/note.js';
import { readCurrentRelease } from '../layout/current-link.js';
import { AWK_ONE_LINE } from '../remote/awk-one-line.js';
import type { DeployPaths } from '../layout/paths.js';
import { defineChanges, defineManifestOf } from '../layout/release-files.js';
import { markerLines } from '../remote/markers.js';
import { lines, sh, type ShellText } from '../remote/sh.js';
import type { AppPersistence } from './app-persistence.js';
import { PENDING_DIR, PENDING_LIST } from '../layout/release-files.js';

/** `<kind> <path>` for the first paths of each kind, for display: a newline or a tab shows as \n, \t. */
export const CHANGE_MARKER = '@@shipshape-change ';
/** `<release> <changed> <added> <removed>`: the counts, once per checked release. */
export const CHANGES_MARKER = '@@shipshape-changes ';
/** `<release> <why>`: the release could not be read whole, so it was not checked. */
export const UNCHECKED_MARKER = '@@shipshape-unchecked ';

/** How many paths of each kind a report names; the counts are always whole. */
const SHOWN = 20;

/**
 * What the app and its users may change in a release without it being a change of the code:
 * shared paths (links), writable and ephemeral dirs, our own pending updates, and in public_dir
 * every entry that is not the release's own (those the running app creates move into shared/).
 */
function mutableParts(p: AppPersistence) {
  return {
    skip: [
      ...p.shared_dirs,
      ...p.shared_files.map((f) => f.path),
      ...p.writable_dirs,
      ...p.ephemeral,
      PENDING_DIR,
      PENDING_LIST,
    ],
    publicDir: p.public_dir ?? undefined,
    publicOwn: p.public_exclude,
  };
}

/**
 * Defines `__ss_check_release NAME MODE OUT`: compares the release with the manifest taken when it
 * went live (layout/release-files.ts) and prints the report markers. Returns 0 when it found no
 * difference or has no manifest, 1 when it found some (OUT then holds them, NUL-separated), 2 when
 * the release could not be read whole (reported, never taken for "no change").
 */
export function defineCheckRelease(paths: DeployPaths, p: AppPersistence): ShellText {
  const m = mutableParts(p);
  const report = `${AWK_ONE_LINE}
BEGIN { RS = "\\0" }
{
  tab = index($0, "\\t"); kind = substr($0, 1, tab - 1); p = substr($0, tab + 1)
  count[kind]++
  if (count[kind] <= ${SHOWN}) printf "%s%s %s\\n", marker, kind, one_line(p)
}
END { printf "%s%s %d %d %d\\n", total, rel, count["changed"], count["added"], count["removed"] }`;
  return lines(
    defineChanges(m.skip, m),
    defineManifestOf(paths),
    sh`__ss_check_release() {
  __ss_cm=$(__ss_manifest_of "$1")
  [ -n "$__ss_cm" ] || return 0
  if ! __ss_changes ${paths.releases}/"$1" "$__ss_cm" "$2" "$3" 2> "$3.err"; then
    printf '%s%s %s\\n' ${UNCHECKED_MARKER} "$1" "$(tail -n 2 "$3.err" | tr '\\n\\r\\t' '   ')"
    rm -f "$3.err"
    return 2
  fi
  rm -f "$3.err"
  [ -s "$3" ] || return 0
  awk -v marker=${CHANGE_MARKER} -v total=${CHANGES_MARKER} -v rel="$1" ${report} "$3"
  return 1
}`,
  );
}

/** `__ss_live`: the release `current` points to, read exactly (layout/current-link.ts), when its directory is there. */
export const readLiveRelease = (paths: DeployPaths): ShellText =>
  sh`${readCurrentRelease(paths)}
__ss_live=$__cur
if [ -n "$__ss_live" ] && { [ ! -d ${paths.releases}/"$__ss_live" ] || [ -L ${paths.releases}/"$__ss_live" ]; }; then __ss_live=; fi`;

/** Copies the changed and added files of a checked release (OUT) to shared/.rescued/<release>/; an older copy is kept as name.~N~. */
export const copyChanges = (paths: DeployPaths, release: ShellText, out: ShellText): ShellText => {
  const rescued = path.posix.join(paths.shared, '.rescued');
  return sh`mkdir -p ${rescued}/${release} &&
  sed -z -n 's/^\\(added\\|changed\\)\\t//p' ${out} |
  (cd ${paths.releases}/${release} && xargs -0 -r cp -p --parents --backup=numbered -t ${rescued}/${release} --)`;
};

export interface ReleaseChanges {
  release: string;
  changed: number;
  added: number;
  removed: number;
  /** The first paths of each kind, as `kind path`. */
  shown: { kind: string; path: string }[];
}

export function readChanges(stdout: string): ReleaseChanges[] {
  const shown = markerLines(stdout, CHANGE_MARKER).map((l) => {
    const sp = l.indexOf(' ');
    return { kind: l.slice(0, sp), path: l.slice(sp + 1) };
  });
  return markerLines(stdout, CHANGES_MARKER).map((l) => {
    const [release = '', changed, added, removed] = l.split(' ');
    return { release, changed: Number(changed), added: Number(added), removed: Number(removed), shown };
  });
}

export function readUnchecked(stdout: string): { release: string; why: string }[] {
  return markerLines(stdout, UNCHECKED_MARKER).map((l) => {
    const sp = l.indexOf(' ');
    return { release: l.slice(0, sp), why: l.slice(sp + 1).trim() };
  });
}

/** "2 changed, 1 added: lib/util.php (changed), …" for messages and notes. */
export function describeChanges(c: ReleaseChanges): string {
  const counts = (['changed', 'added', 'removed'] as const)
    .filter((k) => c[k] > 0)
    .map((k) => `${c[k]} ${k}`)
    .join(', ');
  const total = c.changed + c.added + c.removed;
  const names = c.shown.map((s) => `${s.path} (${s.kind})`).join(', ');
  return `${counts}: ${names}${total > c.shown.length ? ` and ${total - c.shown.length} more` : ''}`;
}

export function uncheckedNotes(stdout: string): Note[] {
  return readUnchecked(stdout).map((u) => ({
    level: 'warn',
    message: `release ${u.release} could not be read whole, so changes made on the server were not checked: ${u.why}`,
  }));
}
