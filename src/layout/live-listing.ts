import type { DeployPaths } from './paths.js';
import { sh, type ShellText } from '../remote/sh.js';
import { spareTree } from './spare.js';
import { manifestDir } from './upload-manifests.js';
import { TREE_END } from '../source/previous-release.js';
import { readCurrentRelease } from './current-link.js';

/**
 * `find` over a directory, NUL-separated so any file name survives, gzipped and base64'd onto
 * one line. The end record is written only when `find` succeeded, so a truncated listing is
 * never mistaken for a complete one. Device and inode tell a hard link to the same file apart
 * from an equal-looking copy.
 */
const listing = (dir: ShellText): ShellText =>
  sh`{ find ${dir} -mindepth 1 -printf '%y\\0%m\\0%s\\0%T@\\0%D:%i\\0%U\\0%P\\0%l\\0' && printf '%s\\0' ${TREE_END}; } 2>/dev/null | gzip -1 | base64 -w0`;

/**
 * Probe fragment: names the release `current` points to and sends back, in the same script,
 * its upload manifest and a listing of what is really on disk, and with `withSpare` the same
 * listing of the spare. The listing is what makes hard links safe: a path the shared stage
 * turned into a symlink, or a file the app rewrote, shows up as different from the manifest
 * and is re-sent instead of trusted.
 *
 * Nothing here may fail the probe: a missing manifest or a `find` without -printf leaves a
 * line out and the deploy uploads in full.
 */
export function probePreviousRelease(paths: DeployPaths, withSpare: boolean): ShellText[] {
  const dir = sh`${paths.releases}/"$__prev"`;
  const spare = spareTree(paths);
  const listSpare = withSpare
    ? sh`
  if [ -d ${spare} ] && [ ! -L ${spare} ]; then printf 'spare-tree\t'; ${listing(sh`${spare}`)}; printf '\n'; fi`
    : sh``;
  return [
    sh`${readCurrentRelease(paths)}; __prev=$__cur
if [ -n "$__prev" ] && [ -d ${dir} ] && [ ! -L ${dir} ]; then
  printf 'prev-release\t%s\n' "$__prev"
  printf 'prev-uid\t%s\n' "$(id -u)"
  if [ -f ${manifestDir(paths)}/"$__prev".json.gz ]; then printf 'prev-manifest\t'; base64 -w0 < ${manifestDir(paths)}/"$__prev".json.gz; printf '\n'; fi
  printf 'prev-tree\t'; ${listing(dir)}; printf '\n'${listSpare}
fi; true`,
  ];
}
