import path from 'node:path';
import { DeployError } from '../definitions/errors.js';
import { persistenceOf } from '../persistence/app-persistence.js';
import {
  copyChanges,
  defineCheckRelease,
  describeChanges,
  readChanges,
  readLiveRelease,
  uncheckedNotes,
} from '../persistence/release-changes.js';
import { sh } from '../remote/sh.js';
import { REMOTE_EXIT } from './exit-codes.js';
import type { HostContext, Stage } from './types.js';

/**
 * Settings: `release_changes` (warn | fail, default warn).
 *
 * Before anything of the new release exists: what changed in the live release since it went live,
 * outside shared and writable paths (a hotfix by hand, an app rewriting its own code, a database
 * kept in a code directory). Such a change is in no source and would be replaced by the next
 * release without a word; it is listed and its files copied to shared/.rescued/<release>/, or with
 * `fail` the deploy stops here, before any change on the host.
 */
export const changes: Stage<HostContext> = {
  id: 'changes',
  title: 'Look for changes made on the server',
  plan: (ctx) => {
    const out = path.posix.join(ctx.paths.meta, 'live-changes');
    const fail = ctx.config.release_changes === 'fail';
    const stop = sh`rm -f ${out}; exit ${REMOTE_EXIT.releaseChanged}`;
    const notAll = 'could not copy every changed file to shared/.rescued (they are still in the release)';
    const copy = sh`${copyChanges(ctx.paths, sh`"$__ss_live"`, sh`${out}`)} || printf '%s\\n' ${notAll} >&2`;
    return [
      defineCheckRelease(ctx.paths, persistenceOf(ctx)),
      readLiveRelease(ctx.paths),
      sh`if [ -n "$__ss_live" ]; then
  __ss_rc=0
  __ss_check_release "$__ss_live" mtime ${out} || __ss_rc=$?
  if [ "$__ss_rc" = 1 ]; then
    ${fail ? stop : copy}
  fi
  rm -f ${out}
fi
[ -z "\${__ss_files:-}" ] || rm -f "$__ss_files"`,
    ];
  },
  interpret: (o, ctx) => {
    if (o.exitCode !== REMOTE_EXIT.releaseChanged) return undefined;
    const [c] = readChanges(o.stdout);
    return new DeployError('ERELEASECHANGED', {
      host: ctx.alias,
      release: c?.release,
      changes: c ? describeChanges(c) : '',
      releasePath: c ? path.posix.join(ctx.paths.releases, c.release) : ctx.paths.current,
    });
  },
  notes: (o, ctx) => [
    ...readChanges(o.stdout).map((c) => ({
      level: 'warn' as const,
      message: `the live release ${c.release} was changed on the server since it went live (${describeChanges(c)}); the new release replaces those files with the source's. Copies are in ${path.posix.join(ctx.paths.shared, '.rescued', c.release)}/: bring the change into the source, or move the data to a shared path`,
    })),
    ...uncheckedNotes(o.stdout),
  ],
};
