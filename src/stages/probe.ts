import { PROBE_BEGIN, PROBE_END } from '../layout/remote-state.js';
import path from 'node:path';
import { sh, type ShellText } from '../remote/sh.js';
import { PENDING_LIST } from '../layout/release-files.js';
import { PLACED_MANIFEST } from './shared.js';
import { probePreviousRelease, type HeldDigests } from '../layout/live-listing.js';
import { persistenceOf } from '../persistence/app-persistence.js';
import { releaseSharedTarget } from '../persistence/shared-links.js';
import { planGuessListAhead, spareUntouched } from '../persistence/rescue.js';
import { readCurrentRelease } from '../layout/current-link.js';
import { probeFinished } from '../layout/finished.js';
import { RELEASE_GLOB } from '../layout/release-log.js';
import { uploadSettings, usesSpare } from '../source/upload-plan.js';
import type { HostContext, Stage } from './types.js';

/**
 * The log only grows (a line per deploy, and one more as it ends), but a deploy reads only the
 * entries of releases from the oldest directory on: statuses for pruning and rollback, and the
 * releases removed by hand (missing-releases.ts). Older entries stay in the file, unread, as in
 * Deployer (which reads its log's last keep_releases + 5 lines). A line that does not begin with
 * its name, as shipshape writes it, is sent as it is; so is every line when no release is there.
 */
const LOG_SINCE_OLDEST = `{ n = substr($0, 1, 9) == "{\\"name\\":\\"" ? substr($0, 10, 15) : "" }
oldest == "" || n == "" || n >= oldest { print "log\\t" $0 }`;

/**
 * Names read from the server are releases only in the release form, checked here by the shell
 * on the whole name (the report is line-based: a name with a newline in it would otherwise
 * arrive cut back to a valid one) and again by parseRemoteState.
 */
const readState = ({ paths }: HostContext): ShellText[] => [
  sh`${readCurrentRelease(paths)}
if [ -n "$__cur" ]; then printf 'current-link\treleases/%s\n' "$__cur"
elif [ -L ${paths.current} ]; then printf 'current-link\t\n'
elif [ -e ${paths.current} ]; then printf 'current-other\t\n'
fi`,
  // The glob sorts: the first release is the oldest (names of one length, digits and one dash).
  sh`__ss_oldest=''
for d in ${paths.releases}/*; do
  case "\${d##*/}" in
    ${RELEASE_GLOB}) if [ -d "$d" ] && [ ! -L "$d" ]; then printf 'release\t%s\n' "\${d##*/}"; [ -n "$__ss_oldest" ] || __ss_oldest=\${d##*/}; fi ;;
  esac
done`,
  sh`if [ -f ${paths.log} ]; then awk -v oldest="$__ss_oldest" ${LOG_SINCE_OLDEST} ${paths.log}; fi`,
  probeFinished(paths),
  sh`if [ -f ${paths.lock}/owner.json ]; then printf 'lock\t%s\n' "$(tr -d '\n' < ${paths.lock}/owner.json)"
elif [ -d ${paths.lock} ]; then printf 'lock\t\n'
fi`,
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

/**
 * skip_unchanged: shared paths gone from shared/ (a directory removed by hand, a required file
 * never put there). A deploy makes the directory again, or fails saying what to put; a run that
 * made no release would leave the app without it, so such a host gets a release.
 */
function readSharedMissing(ctx: HostContext): ShellText[] {
  if (!ctx.config.skip_unchanged) return [];
  const p = persistenceOf(ctx);
  const dirs = p.shared_dirs.map((d) => path.posix.join(ctx.paths.shared, d));
  const files = p.shared_files
    .filter((f) => !f.optional)
    .map((f) => path.posix.join(ctx.paths.shared, f.path));
  return [
    ...(dirs.length
      ? [sh`for __p in ${dirs}; do [ -d "$__p" ] || printf 'shared-missing\t%s\n' "$__p"; done`]
      : []),
    ...(files.length
      ? [sh`for __p in ${files}; do [ -e "$__p" ] || printf 'shared-missing\t%s\n' "$__p"; done`]
      : []),
  ];
}

/**
 * skip_unchanged: shared paths the live release no longer links into shared/ (a link replaced by
 * a directory by hand). The app would write into the release instead: such a host gets a
 * release, whose shared stage links them again.
 */
function readSharedUnlinked(ctx: HostContext): ShellText[] {
  if (!ctx.config.skip_unchanged) return [];
  const p = persistenceOf(ctx);
  const linked = [...p.shared_dirs, ...p.shared_files.filter((f) => !f.optional).map((f) => f.path)];
  return linked.map(
    (rel) =>
      sh`[ "$(readlink ${path.posix.join(ctx.paths.current, rel)})" = ${releaseSharedTarget(ctx.paths, rel)} ] || printf 'shared-unlinked\t%s\n' ${rel}`,
  );
}

/**
 * What keeps a public file from counting as placed in shared/ although the live release's upload
 * sent it (source/upload-plan.ts sends such a file only when it changed): the file is gone from
 * shared/<public_dir> (`public-missing`: it is copied in again, as the docs promise), or its update
 * waits in the live release because it could not be moved into place after the switch
 * (`public-pending`: it is tried again). Steady state prints nothing.
 */
function readPublicUnsettled(ctx: HostContext): ShellText[] {
  const pd = persistenceOf(ctx).public_dir;
  if (!pd) return [];
  const placed = path.posix.join(ctx.paths.meta, PLACED_MANIFEST);
  const S = path.posix.join(ctx.paths.shared, pd);
  const pending = sh`${ctx.paths.releases}/"$__cur"/${PENDING_LIST}`;
  return [
    // Placed paths (last line wins) that shared/ no longer holds: the upload sends those again.
    sh`if [ -f ${placed} ]; then
  awk -F '\t' '{ h[$2] = 1 } END { for (p in h) print p }' ${placed} | while IFS= read -r __p; do
    [ -e ${S}/"$__p" ] || [ -L ${S}/"$__p" ] || printf 'public-missing\t%s\n' "$__p"
  done
fi
${readCurrentRelease(ctx.paths)}
# The path is the second field alone: lists written before the third (the compared hash) have two.
if [ -n "$__cur" ] && [ -f ${pending} ]; then cut -f2 ${pending} | sed 's/^/public-pending\t/'; fi`,
  ];
}

/** A deploy (under the lock) keeps the listing it is sent as the reference for the next one. */
const held = ({ memory }: HostContext): HeldDigests | undefined =>
  memory && { ...memory.digests(), keep: true };

/** The live release's listing and manifest; with the spare, offered only untouched. */
function previousRelease(ctx: HostContext, withSpare: boolean): ShellText[] {
  return probePreviousRelease(ctx.paths, withSpare, held(ctx), (walked) =>
    spareUntouched(ctx.paths, persistenceOf(ctx).ephemeral, walked),
  );
}

/**
 * Reads the host's state; a dry run uses it alone. The one thing it writes, in a deploy, is the
 * listing it sends, kept under .deploy/listings/ so the next probe can send only what changed.
 */
export const probe: Stage<HostContext> = {
  id: 'probe',
  title: 'Read the host state',
  plan: (ctx) => {
    const { mode } = uploadSettings(ctx);
    return [
      sh`printf '%s\n' ${PROBE_BEGIN}`,
      ...readState(ctx),
      ...readSharedUnseeded(ctx),
      ...readSharedMissing(ctx),
      ...readSharedUnlinked(ctx),
      ...(mode === 'full' ? [] : readPublicUnsettled(ctx)),
      // Incremental upload needs the previous release's manifest and listing; reading them here costs no
      // extra exec, and what this machine already holds is named by digest and not sent again.
      ...(mode === 'full' ? [] : previousRelease(ctx, usesSpare(mode))),
      // A deploy's (one that keeps what it is sent: a dry run writes nothing).
      ...(usesSpare(mode) && held(ctx) ? [planGuessListAhead(ctx.paths, ctx.config.keep_releases)] : []),
      sh`printf '%s\n' ${PROBE_END}`,
    ];
  },
};

/** The same read for commands that never upload (rollback, releases): no listing of the live release. */
export const probeState: Stage<HostContext> = {
  ...probe,
  plan: (ctx) => [sh`printf '%s\n' ${PROBE_BEGIN}`, ...readState(ctx), sh`printf '%s\n' ${PROBE_END}`],
};
