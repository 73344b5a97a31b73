import { sh, type ShellText } from '../remote/sh.js';
import type { DeployPaths } from './paths.js';
import { RELEASE_GLOB } from './release-log.js';

/**
 * Sets `__cur` to the release `current` points to, or to '' when it is no link, or a link to
 * anything but `releases/<name>` with a release name. The link is read exactly: `$(readlink)`
 * alone drops trailing newlines, so `current -> releases/20200101-000000<newline>` would pass
 * for the release without one; an end mark keeps them, and the `case` then refuses the name.
 */
export const readCurrentRelease = (paths: DeployPaths): ShellText =>
  sh`__cur=''
if [ -L ${paths.current} ]; then
  # The end mark and readlink's newline come off again; any newline of the link text stays.
  __cur=$(readlink ${paths.current} && echo .)
  __cur=\${__cur%?}; __cur=\${__cur%?}
  __cur=\${__cur#./}; __cur=\${__cur#releases/}; __cur=\${__cur%/}
  case "$__cur" in ${RELEASE_GLOB}) ;; *) __cur='' ;; esac
fi`;
