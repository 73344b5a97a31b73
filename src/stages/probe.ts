import { PROBE_BEGIN, PROBE_END } from '../engine/remote-state.js';
import { sh } from '../remote/sh.js';
import { probePreviousRelease } from '../source/previous-release.js';
import { uploadSettings } from '../source/upload-plan.js';
import type { HostContext, Stage } from './types.js';

/** Reads the host's state without changing anything; a dry run uses it alone. */
export const probe: Stage<HostContext> = {
  id: 'probe',
  title: 'Read the host state',
  plan: ({ paths, config }) => {
    const { mode } = uploadSettings(config);
    return [
      sh`printf '%s\n' ${PROBE_BEGIN}`,
      sh`if [ -L ${paths.current} ]; then printf 'current-link\t%s\n' "$(readlink ${paths.current})"; elif [ -e ${paths.current} ]; then printf 'current-other\t\n'; fi`,
      sh`for d in ${paths.releases}/*; do if [ -d "$d" ] && [ ! -L "$d" ]; then printf 'release\t%s\n' "\${d##*/}"; fi; done`,
      sh`if [ -f ${paths.log} ]; then sed 's/^/log\t/' ${paths.log}; fi`,
      sh`if [ -f ${paths.lock}/owner.json ]; then printf 'lock\t'; tr -d '\n' < ${paths.lock}/owner.json; printf '\n'; elif [ -d ${paths.lock} ]; then printf 'lock\t\n'; fi`,
      // Incremental upload needs the previous release's manifest; reading it here costs no extra exec.
      ...(mode === 'full' ? [] : probePreviousRelease(paths, mode === 'incremental')),
      sh`printf '%s\n' ${PROBE_END}`,
    ];
  },
};
