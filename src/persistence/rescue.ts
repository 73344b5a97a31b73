import path from 'node:path';
import type { DeployPaths } from '../layout/paths.js';
import { planKeepAsSpare } from '../layout/spare.js';
import { planMoveToTrash } from '../layout/trash.js';
import { markerLines } from '../remote/markers.js';
import { lines, sh, ShellText } from '../remote/sh.js';
import type { Note } from '../definitions/note.js';

/**
 * Runtime-written content: files the running app wrote inside its release (outside shared/)
 * after the release went live. They are recognised against a manifest taken at the switch,
 * so what the deploy itself built (vendor installs, config caches) is part of the release.
 * GNU find's -printf is used: Debian's /bin/sh is dash, but findutils is GNU.
 */
export const RESCUE_MARKER = '@@shipshape-rescued ';

export const manifestPath = (paths: DeployPaths, release: string): string =>
  path.posix.join(paths.meta, 'manifests', `${release}.tsv`);

/** size, mtime and path of every regular file; links (shared/ and public entries) are not followed. */
const listFiles = (dir: string, ephemeral: readonly string[]): ShellText => {
  const prune = ephemeral.length
    ? sh`\\( ${sh.join(
        ephemeral.map((e) => sh`-path ${`./${e}`}`),
        ' -o ',
      )} \\) -prune -o `
    : sh``;
  return sh`(cd ${dir} && find . ${prune}-type f -printf '%s\t%T@\t%P\n')`;
};

/** Part of the symlink phase: written just before `current` moves, so everything after it is the app's. */
export function recordManifest(paths: DeployPaths, releasePath: string, release: string): ShellText {
  const file = manifestPath(paths, release);
  return sh`mkdir -p ${path.posix.dirname(file)} && ${listFiles(releasePath, [])} > ${`${file}.tmp`} && mv -f ${`${file}.tmp`} ${file}`;
}

/**
 * Before a release is removed: every regular file not in its manifest, or with another size or
 * mtime, moves to shared/.rescued/<release>/<path>. A file that cannot be moved makes the command
 * fail, so the release is not removed. Releases that never went live have no manifest: nothing to rescue.
 */
export function planRescue(paths: DeployPaths, release: string, ephemeral: readonly string[]): ShellText {
  const dir = path.posix.join(paths.releases, release);
  const manifest = manifestPath(paths, release);
  const dest = path.posix.join(paths.shared, '.rescued', release);
  const list = `${manifest}.rescue`;
  return lines(
    sh`if [ -f ${manifest} ] && [ -d ${dir} ] && [ ! -L ${dir} ]; then`,
    sh`  ${listFiles(dir, ephemeral)} > ${`${manifest}.now`} &&`,
    // Paths come last on a line, so a tab inside one is kept: strip the first two fields only.
    sh`  awk 'function key(l) { sub(/^[^\t]*\t[^\t]*\t/, "", l); return l } NR == FNR { m[key($0)] = $0; next } m[key($0)] != $0 { print key($0) }' ${manifest} ${`${manifest}.now`} > ${list} &&`,
    sh`  __rc=0 && __n=0 && while IFS= read -r __f; do mkdir -p "$(dirname -- ${dest}/"$__f")" && mv -n -- ${dir}/"$__f" ${dest}/"$__f" && [ ! -e ${dir}/"$__f" ] && __n=$((__n + 1)) || { __rc=1; break; }; done < ${list} &&`,
    sh`  { [ "$__n" = 0 ] || printf '%s%s %s\n' ${RESCUE_MARKER} ${release} "$__n"; } && rm -f ${list} ${`${manifest}.now`} && [ "$__rc" = 0 ]`,
    sh`fi`,
  );
}

/**
 * Rescue, then move the release to the trash (deleted in the background) or keep it as the
 * spare the next deploy builds on, and remove its manifest.
 */
export function planRemoveRelease(
  paths: DeployPaths,
  release: string,
  ephemeral: readonly string[],
  to: 'trash' | 'spare' = 'trash',
): ShellText {
  const move = to === 'spare' ? planKeepAsSpare(paths, release) : planMoveToTrash(paths, release);
  return sh`{ ${planRescue(paths, release, ephemeral)}
} && ${move} && rm -f -- ${manifestPath(paths, release)}`;
}

export function rescueNotes(stdout: string, sharedRoot: string): Note[] {
  return markerLines(stdout, RESCUE_MARKER)
    .map((l) => l.split(' '))
    .map(([release, n]) => ({
      level: 'warn' as const,
      message: `release ${release}: the app wrote ${n} file(s) into it after it went live; moved to ${sharedRoot}/.rescued/${release}/ before removing it (point the app at a shared dir instead)`,
    }));
}
