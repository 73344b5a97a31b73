import { PROBE_BEGIN, PROBE_END } from '../layout/remote-state.js';
import { sh, type ShellText } from '../remote/sh.js';
import { probePreviousRelease } from '../layout/live-listing.js';
import { persistenceOf } from '../persistence/app-persistence.js';
import { readCurrentRelease } from '../layout/current-link.js';
import { RELEASE_GLOB } from '../layout/release-log.js';
import { uploadSettings, usesSpare } from '../source/upload-plan.js';
import type { HostContext, Stage } from './types.js';

/**
 * Names read from the server are releases only in the release form, checked here by the shell
 * on the whole name (the report is line-based: a name with a newline in it would otherwise
 * arrive cut back to a valid one) and again by parseRemoteState.
 */
const readState = ({ paths }: HostContext): ShellText[] => [
  sh`${readCurrentRelease(paths)}; if [ -n "$__cur" ]; then printf 'current-link\treleases/%s\n' "$__cur"; elif [ -L ${paths.current} ]; then printf 'current-link\t\n'; elif [ -e ${paths.current} ]; then printf 'current-other\t\n'; fi`,
  sh`for d in ${paths.releases}/*; do case "\${d##*/}" in ${RELEASE_GLOB}) if [ -d "$d" ] && [ ! -L "$d" ]; then printf 'release\t%s\n' "\${d##*/}"; fi ;; esac; done`,
  sh`if [ -f ${paths.log} ]; then sed 's/^/log\t/' ${paths.log}; fi`,
  sh`if [ -f ${paths.lock}/owner.json ]; then printf 'lock\t'; tr -d '\n' < ${paths.lock}/owner.json; printf '\n'; elif [ -d ${paths.lock} ]; then printf 'lock\t\n'; fi`,
];

/**
 * Which shared paths no deploy has seeded on this host yet: only those may get the upload's
 * git-tracked files (or a `seed_shared` copy), once (persistence/upload-entries.ts). Recorded, not
 * inferred from shared/ itself, which `deploy setup` may have created empty before the first deploy.
 */
function readSharedUnseeded(ctx: HostContext): ShellText[] {
  const p = persistenceOf(ctx);
  const paths = [...p.shared_dirs, ...p.shared_files.map((f) => f.path)];
  if (paths.length === 0) return [];
  return [
    sh`for __p in ${paths}; do grep -qxF -- "$__p" ${ctx.paths.seeded} 2>/dev/null || printf 'shared-unseeded\t%s\n' "$__p"; done`,
  ];
}

/** Reads the host's state without changing anything; a dry run uses it alone. */
export const probe: Stage<HostContext> = {
  id: 'probe',
  title: 'Read the host state',
  plan: (ctx) => {
    const { mode } = uploadSettings(ctx);
    return [
      sh`printf '%s\n' ${PROBE_BEGIN}`,
      ...readState(ctx),
      ...readSharedUnseeded(ctx),
      // Incremental upload needs the previous release's manifest; reading it here costs no extra exec.
      ...(mode === 'full' ? [] : probePreviousRelease(ctx.paths, usesSpare(mode))),
      sh`printf '%s\n' ${PROBE_END}`,
    ];
  },
};

/** The same read for commands that never upload (rollback, releases): no listing of the live release. */
export const probeState: Stage<HostContext> = {
  ...probe,
  plan: (ctx) => [sh`printf '%s\n' ${PROBE_BEGIN}`, ...readState(ctx), sh`printf '%s\n' ${PROBE_END}`],
};
