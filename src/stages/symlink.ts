import path from 'node:path';
import { sh, type ShellText } from '../remote/sh.js';
import { DeployError } from '../definitions/errors.js';
import { currentLinkText, releaseDir, type DeployPaths } from '../layout/paths.js';
import { RELEASE_PATTERN } from '../layout/release-log.js';
import { REMOTE_EXIT } from './exit-codes.js';
import { appendLog, logEntry } from './log-line.js';
import { persistenceOf } from '../persistence/app-persistence.js';
import { publicNotes } from '../persistence/public-notes.js';
import { readNotApplied, readPublicReport } from '../persistence/public-share.js';
import { PENDING_DIR } from '../layout/release-files.js';
import { recordManifest } from '../layout/release-files.js';
import { applyPublicUpdates } from './shared.js';
import type { Stage } from './types.js';

/** The fresh link renamed over `current`; an interrupt before the rename leaves it behind. */
export const switchTempLink = (paths: DeployPaths, release: string): string =>
  path.posix.join(paths.root, `.current.${release}.tmp`);

/**
 * Points `current` at a release atomically. `ln -sfn` unlinks and re-creates, leaving a
 * moment with no `current` (and it follows a link-to-directory on some systems); renaming
 * a fresh link over the old one with `mv -T` is a single rename(2), so readers always
 * see either the old or the new complete release. Deploy, rollback and switching back all
 * come here, and it refuses a target that is not a real directory under releases/ (gone, a
 * symlink planted there, a name read wrongly from the server): `current` never dangles.
 */
export function switchCurrent(paths: DeployPaths, release: string): ShellText {
  if (!RELEASE_PATTERN.test(release))
    throw new DeployError('EINTERNAL', {
      reason: `refusing to switch to ${JSON.stringify(release)}: not a release name`,
    });
  const tmp = switchTempLink(paths, release);
  const dir = releaseDir(paths, release);
  return sh`# A real directory named current is someone's data: never replaced.
if [ -e ${paths.current} ] && [ ! -L ${paths.current} ]; then
  printf '%s exists and is not a symlink\n' ${paths.current} >&2
  exit ${REMOTE_EXIT.currentNotLink}
fi
if [ ! -d ${dir} ] || [ -L ${dir} ]; then
  printf 'refusing to point current at %s: not a directory under releases/\n' ${dir} >&2
  exit ${REMOTE_EXIT.notARelease}
fi
rm -f ${tmp}
ln -s ${currentLinkText(release)} ${tmp}
mv -T ${tmp} ${paths.current}`;
}

export const symlink: Stage = {
  id: 'symlink',
  title: 'Switch current to the new release',
  plan: (ctx) => [
    // The release as deployed, so cleanup can later tell what the running app wrote into it.
    recordManifest(ctx.paths, ctx.releasePath, ctx.release),
    switchCurrent(ctx.paths, ctx.release),
    // Only now: before the switch, updated shared files would be served by the old release.
    ...applyPublicUpdates(ctx),
    appendLog(ctx.paths.log, logEntry(ctx, 'success')),
  ],
  notes: (o, ctx) => {
    const pd = persistenceOf(ctx).public_dir ?? 'public';
    // The shared stage's counts, and its conflicts, with the updates found edited after its check.
    const report = readPublicReport(o.stdout);
    return [
      ...(report ? publicNotes(report, pd) : []),
      ...readNotApplied(o.stdout).map((f) => ({
        level: 'warn' as const,
        message: `shared/${pd}/${f} could not be updated; the new release is live and serves the previous version. The new one waits in ${path.posix.join(ctx.releasePath, PENDING_DIR, pd, f)}: move it into shared/${pd}/ by hand.`,
      })),
    ];
  },
};
