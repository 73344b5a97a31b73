import { DeployError } from '../definitions/errors.js';
import type { LockRecord } from '../layout/remote-state.js';
import { markerLines } from '../remote/markers.js';
import { sh } from '../remote/sh.js';
import { REMOTE_EXIT } from './exit-codes.js';
import type { HostContext, Stage } from './types.js';

export const HOLDER_MARKER = '@@shipshape-holder ';

export function lockRecord(ctx: HostContext): LockRecord {
  const { user, machine, pid, started_at, command, ci } = ctx.run;
  return { user, machine, pid, started_at, command, ci, token: ctx.lockToken };
}

export function describeHolder(rec: LockRecord | undefined): string {
  if (!rec || !rec.user) return 'an unknown holder (the lock has no owner record)';
  const ci = rec.ci?.url ?? rec.ci?.job;
  return `${rec.user}@${rec.machine} (pid ${rec.pid}, since ${rec.started_at}, \`${rec.command}\`${ci ? `, CI ${ci}` : ''})`;
}

/**
 * mkdir is the lock: it either creates the directory or fails, atomically, so two
 * deploys can never both believe they hold it (test-then-write would race).
 */
export const lock: Stage<HostContext> = {
  id: 'lock',
  title: 'Take the deploy lock',
  plan: (ctx) => {
    const { paths } = ctx;
    const tmp = `${paths.meta}/lock-owner.${ctx.lockToken}`;
    return [
      sh`printf '%s\n' ${JSON.stringify(lockRecord(ctx))} > ${tmp}`,
      // A lock without owner.json is either being taken (mkdir done, mv not yet) or released (rm
      // done, rmdir not yet): for up to a second, look again before calling its holder unknown.
      // A failed mv gives the lock back at once, so no ownerless lock outlives this script. The
      // record is read once: between a test for it and a read, its holder could remove it.
      sh`__n=0; __rc=; while [ -z "$__rc" ]; do if mkdir ${paths.lock} 2>/dev/null; then if mv ${tmp} ${paths.lock}/owner.json; then __rc=0; else __rc=$?; rmdir ${paths.lock}; rm -f ${tmp}; fi; elif { __o=$(cat ${paths.lock}/owner.json 2>/dev/null) && [ -n "$__o" ]; } || [ "$__n" -ge 10 ]; then rm -f ${tmp}; printf '%s' ${HOLDER_MARKER}; printf '%s' "$__o" | tr -d '\n'; printf '\n'; exit ${REMOTE_EXIT.locked}; else sleep 0.1; __n=$((__n + 1)); fi; done; [ "$__rc" = 0 ]`,
    ];
  },
  interpret: (o, ctx) => {
    if (o.exitCode !== REMOTE_EXIT.locked) return undefined;
    const [line] = markerLines(o.stdout, HOLDER_MARKER);
    let holder: LockRecord | undefined;
    try {
      holder = line ? (JSON.parse(line) as LockRecord) : undefined;
    } catch {
      holder = undefined;
    }
    const stale = isStale(holder, ctx.run.machine);
    return new DeployError('ELOCKED', {
      host: ctx.alias,
      holder: describeHolder(holder),
      record: holder,
      stale,
      selector: ctx.alias,
    });
  },
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Held from this machine by a process that is gone: nobody will ever release it. */
export function isStale(holder: LockRecord | undefined, machine: string): boolean {
  return !!holder?.pid && holder.machine === machine && !isAlive(holder.pid);
}
