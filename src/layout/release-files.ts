import path from 'node:path';
import { sh, type ShellText } from '../remote/sh.js';
import type { DeployPaths } from './paths.js';

/**
 * The files of a release as they were the moment it went live, kept in
 * `.deploy/manifests/<release>.list`: one record per regular file, `size TAB mtime TAB inode TAB
 * path`, each ended by a NUL byte so that any file name survives (a newline included). Everything
 * found in a release later and not in its list, or with another size or mtime, was written after
 * the switch: by the app, or by a person on the server. Three checks read it: what the app wrote
 * into a release about to be pruned (rescue), what changed in the live release since it went live,
 * and whether a rollback target is still the code that was deployed. GNU find is needed (its
 * -printf); Debian's /bin/sh is dash, but its findutils are GNU.
 */
export const manifestPath = (paths: DeployPaths, release: string): string =>
  path.posix.join(paths.meta, 'manifests', `${release}.list`);

/**
 * The form of the list before it was NUL-separated, still on hosts last deployed by an older
 * shipshape: `size TAB mtime TAB path` per line, no inode. Read where the list is read.
 */
export const legacyManifestPath = (paths: DeployPaths, release: string): string =>
  path.posix.join(paths.meta, 'manifests', `${release}.tsv`);

/**
 * Public updates waiting in a new release until after the switch (persistence/public-share.ts).
 * Inside the release, so discarding a failed release discards its pending updates too.
 */
export const PENDING_DIR = '.shipshape-pending';
export const PENDING_LIST = '.shipshape-pending.tsv';

export const RECORD = sh`'%s\\t%T@\\t%i\\t%P\\0'`;

/**
 * The files a release check looks at, as find tests them from inside the release (printing
 * RECORD): its regular files but our own pending public updates (persistence/public-share.ts),
 * which go once applied after the switch and are never the app's. The manifest, the full
 * comparison and the probe's list of the live release all take this one set, so a release the
 * app did not touch lists exactly as its manifest.
 */
export const MANIFEST_FILES = sh`-type f ! -path ${`./${PENDING_DIR}/*`} ! -path ${`./${PENDING_LIST}`}`;

/** A `find -path` pattern that matches `rel` literally: glob characters in names are escaped. */
const literalPattern = (rel: string): string => `./${rel.replace(/[\\*?[]/g, '\\$&')}`;

/** `\( -path ./a -o -path './a/*' … \) -prune -o`, or nothing: find does not descend into `prune`. */
function pruneArgs(prune: readonly string[]): ShellText {
  if (prune.length === 0) return sh``;
  const tests = prune.flatMap((p) => [sh`-path ${literalPattern(p)}`, sh`-path ${`${literalPattern(p)}/*`}`]);
  return sh`\\( ${sh.join(tests, ' -o ')} \\) -prune -o `;
}

/** Part of the symlink phase: written just before `current` moves, so everything after it is the app's. */
export function recordManifest(paths: DeployPaths, releasePath: string, release: string): ShellText {
  const file = manifestPath(paths, release);
  return sh`mkdir -p ${path.posix.dirname(file)}
(cd ${releasePath} && find . ${MANIFEST_FILES} -printf ${RECORD}) > ${`${file}.tmp`}
mv -f ${`${file}.tmp`} ${file}`;
}

/**
 * Defines `__ss_changes DIR MANIFEST MODE OUT`: compares the files under DIR with the release's
 * manifest and writes one NUL-ended record `kind TAB path` per difference to OUT, where kind is
 * `added` (not in the manifest), `changed` (another size or mtime; with MODE `inode`, also another
 * inode: a file replaced rather than written in place) or `removed`. Paths under `skip` are neither
 * listed nor compared (shared links, writable and ephemeral dirs: the app's to change). Returns
 * non-zero, with find's complaint on stderr, when DIR cannot be read whole: a partial listing would
 * call every unread file removed and miss what the app wrote there.
 */
export function defineChanges(skip: readonly string[], mutable: MutablePublic = {}): ShellText {
  // awk reads NUL-ended records (mawk and gawk both take RS = "\0"). A path may hold tabs: it is
  // what follows the third tab. Legacy manifests have two fields before the path and no inode.
  // FILENAME, not NR == FNR: a release with no files has an empty manifest.
  const program = `
BEGIN {
  RS = "\\0"; ORS = "\\0"; n = split(ENVIRON["__ss_skip"], skip, "\\n")
  pub = ENVIRON["__ss_pub"]; k = split(ENVIRON["__ss_pubkeep"], kept, "\\n"); for (i = 1; i <= k; i++) own[kept[i]] = 1
}
function path_of(r, fields) { while (fields-- > 0) sub(/^[^\\t]*\\t/, "", r); return r }
function skipped(p,   i, top) {
  for (i = 1; i <= n; i++) if (skip[i] != "" && (p == skip[i] || index(p, skip[i] "/") == 1)) return 1
  if (pub != "" && index(p, pub "/") == 1) { top = substr(p, length(pub) + 2); sub(/\\/.*/, "", top); if (!(top in own)) return 1 }
  return 0
}
FILENAME == ARGV[1] {
  if (legacy) { p = path_of($0, 2); split($0, f, "\\t"); size[p] = f[1]; mtime[p] = f[2]; ino[p] = "-" }
  else { p = path_of($0, 3); split($0, f, "\\t"); size[p] = f[1]; mtime[p] = f[2]; ino[p] = f[3] }
  if (!skipped(p)) want[p] = 1
  next
}
{
  p = path_of($0, 3); split($0, f, "\\t")
  if (skipped(p)) next
  if (!(p in want)) { print "added\\t" p; next }
  delete want[p]
  if (f[1] != size[p] || f[2] != mtime[p] || (mode == "inode" && ino[p] != "-" && f[3] != ino[p])) print "changed\\t" p
}
END { for (p in want) print "removed\\t" p }`;
  return sh`__ss_skip=${skip.join('\n')} __ss_pub=${mutable.publicDir ?? ''} __ss_pubkeep=${(mutable.publicOwn ?? []).join('\n')}
export __ss_skip __ss_pub __ss_pubkeep
__ss_changes() {
  __ss_legacy=0
  case "$2" in *.tsv) __ss_legacy=1 ;; esac
  # Most releases are as they went live: the same find, in the same order, then prints the manifest
  # byte for byte, and nothing needs comparing. The probe may have listed DIR's files already.
  if [ "$__ss_legacy" = 0 ]; then
    __ss_all=$4.all
    if [ -n "\${__ss_files_of:-}" ] && [ "$__ss_files_of" = "$1" ] && [ -f "$__ss_files" ]; then __ss_all=$__ss_files
    elif ! (cd "$1" && find . ${MANIFEST_FILES} -printf ${RECORD}) > "$4.all" 2>/dev/null; then __ss_all=
    fi
    if [ -n "$__ss_all" ] && cmp -s "$__ss_all" "$2"; then rm -f "$4.all"; : > "$4"; return 0; fi
    rm -f "$4.all"
  fi
  (cd "$1" && find . ${pruneArgs(skip)}${MANIFEST_FILES} -printf ${RECORD}) > "$4.now" || return 1
  if [ "$__ss_legacy" = 1 ]; then tr '\\n' '\\0' < "$2" > "$4.base" || return 1; else cp "$2" "$4.base" || return 1; fi
  awk -v legacy="$__ss_legacy" -v mode="$3" ${program} "$4.base" "$4.now" > "$4" || return 1
  rm -f "$4.now" "$4.base"
}`;
}

/**
 * Besides the skipped paths, public_dir holds entries the running app may create (uploads,
 * invoices) that the shared stage moves into shared/: within it only the release's own entries
 * (`publicOwn`: build output and framework files, never shared) are the release's code.
 */
export interface MutablePublic {
  publicDir?: string;
  publicOwn?: readonly string[];
}

/** `__ss_manifest_of RELEASE`: prints the path of the release's manifest, or nothing when it has none. */
export function defineManifestOf(paths: DeployPaths): ShellText {
  const dir = path.posix.join(paths.meta, 'manifests');
  return sh`__ss_manifest_of() {
  if [ -f ${dir}/"$1".list ]; then printf '%s\\n' ${dir}/"$1".list
  elif [ -f ${dir}/"$1".tsv ]; then printf '%s\\n' ${dir}/"$1".tsv
  fi
}`;
}
