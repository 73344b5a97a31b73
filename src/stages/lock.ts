import { DeployError } from '../definitions/errors.js';
import type { LockRecord } from '../layout/remote-state.js';
import { markerLines } from '../remote/markers.js';
import { sh } from '../remote/sh.js';
import { REMOTE_EXIT } from './exit-codes.js';
import type { HostContext, Stage } from './types.js';

export const HOLDER_MARKER = '@@shipshape-holder ';

function lockRecord(ctx: HostContext): LockRecord {
  const { user, machine, pid, started_at, command, ci } = ctx.run;
  return { user, machine, pid, started_at, command, ci, token: ctx.lockToken };
}

/**
 * The owner record is the server's file, written by whichever version took the lock (or by hand):
 * a field it lacks is left out or said to be unknown, never printed as `undefined`.
 */
export function describeHolder(rec: LockRecord | undefined): string {
  if (!rec || !rec.user) return 'an unknown holder (the lock has no owner record)';
  const known = (v: unknown): v is string | number =>
    (typeof v === 'string' && v !== '') || typeof v === 'number';
  const ci = rec.ci?.url ?? rec.ci?.job;
  const details = [
    known(rec.machine) ? undefined : 'machine not recorded',
    known(rec.pid) ? `pid ${rec.pid}` : undefined,
    known(rec.started_at) ? `since ${rec.started_at}` : undefined,
    known(rec.command) ? `\`${rec.command}\`` : 'command not recorded',
    known(ci) ? `CI ${ci}` : undefined,
  ].filter((d) => d !== undefined);
  return `${rec.user}${known(rec.machine) ? `@${rec.machine}` : ''} (${details.join(', ')})`;
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
      sh`__ss_take_lock() {
  __n=0
  while :; do
    if mkdir ${paths.lock} 2>/dev/null; then
      # A failed mv gives the lock back at once: no ownerless lock outlives this script.
      mv ${tmp} ${paths.lock}/owner.json && return 0
      __rc=$?
      rmdir ${paths.lock}; rm -f ${tmp}
      return "$__rc"
    fi
    # Read the owner record once: between a test for it and a read, its holder could remove it.
    __o=$(cat ${paths.lock}/owner.json 2>/dev/null) || __o=
    # Without a record the lock is being taken or released: look again, for up to a second.
    if [ -n "$__o" ] || [ "$__n" -ge 10 ]; then
      rm -f ${tmp}
      printf '%s%s\n' ${HOLDER_MARKER} "$(printf '%s' "$__o" | tr -d '\n')"
      exit ${REMOTE_EXIT.locked}
    fi
    sleep 0.1
    __n=$((__n + 1))
  done
}
__ss_take_lock`,
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
      stale,
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
