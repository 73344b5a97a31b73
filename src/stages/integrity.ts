import path from 'node:path';
import { DeployError } from '../definitions/errors.js';
import { persistenceOf } from '../persistence/app-persistence.js';
import {
  defineCheckRelease,
  describeChanges,
  readChanges,
  readUnchecked,
} from '../persistence/release-changes.js';
import { sh } from '../remote/sh.js';
import { REMOTE_EXIT } from './exit-codes.js';
import type { RollbackContext } from './rollback.js';
import type { Stage } from './types.js';

export type IntegrityContext = RollbackContext & { force?: boolean };

/**
 * Before a rollback switches: the target must still be the code that was deployed. Releases share
 * unchanged files as hard links, so a write in place in the live release (a hotfix, an app
 * updating itself) changes every release holding that file, and a rollback would no longer
 * restore what ran before. Size, mtime and inode are compared with the manifest taken when the
 * target went live; a difference, or a target that cannot be read whole, refuses the rollback
 * unless `--force`.
 */
export const integrity: Stage<IntegrityContext> = {
  id: 'integrity',
  title: 'Check the target is the release that was deployed',
  plan: (ctx) => {
    const out = path.posix.join(ctx.paths.meta, `target-changes-${ctx.target}`);
    return [
      defineCheckRelease(ctx.paths, persistenceOf(ctx)),
      sh`__ss_rc=0
__ss_check_release ${ctx.target} inode ${out} || __ss_rc=$?
rm -f ${out}
if [ "$__ss_rc" != 0 ]; then ${ctx.force ? sh`:` : sh`exit ${REMOTE_EXIT.targetChanged}`}; fi`,
    ];
  },
  interpret: (o, ctx) => {
    if (o.exitCode !== REMOTE_EXIT.targetChanged) return undefined;
    const [c] = readChanges(o.stdout);
    const [u] = readUnchecked(o.stdout);
    return new DeployError('ETARGETCHANGED', {
      host: ctx.alias,
      release: ctx.target,
      changes: c ? describeChanges(c) : `it could not be read whole (${u?.why ?? 'unknown'})`,
    });
  },
  notes: (o, ctx) => [
    ...readChanges(o.stdout).map((c) => ({
      level: 'warn' as const,
      message: `release ${ctx.target} is not what was deployed (${describeChanges(c)}); switched to it anyway (--force)`,
    })),
    ...readUnchecked(o.stdout).map((u) => ({
      level: 'warn' as const,
      message: `release ${ctx.target} could not be checked (${u.why}); switched to it anyway (--force)`,
    })),
  ],
};
