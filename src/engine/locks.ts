import { describeHolder, isStale } from '../stages/lock.js';
import { forceUnlock, UNLOCKED_MARKER } from '../stages/force-unlock.js';
import type { DeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { worstExit } from './exit-status.js';
import { runStages } from './executor.js';
import { withHostSessions, type SessionOptions } from './host-session.js';
import { toDeployError } from '../definitions/errors.js';
import { readHostStates } from './releases.js';
import type { LockRecord } from '../layout/remote-state.js';

export interface LockReport {
  host: string;
  locked: boolean;
  holder?: LockRecord;
  /** Human description of the holder, as ELOCKED words it. */
  description?: string;
  /** Same machine as us and its pid is gone: nobody will ever release it. */
  stale: boolean;
  error?: DeployError;
}

const worst = (reports: { error?: DeployError }[]): number =>
  worstExit(reports.map((r) => r.error?.exitCode ?? EXIT.ok));

/** `deploy lock status`: read-only. */
export async function lockStatus(
  o: Omit<SessionOptions, 'command'>,
  machine: string,
): Promise<{ hosts: LockReport[]; exitCode: number }> {
  const { hosts } = await readHostStates(o);
  const reports = hosts.map((h) => ({
    host: h.host,
    locked: h.lock !== undefined,
    holder: h.lock,
    description: h.lock ? describeHolder(h.lock) : undefined,
    stale: isStale(h.lock, machine),
    error: h.error,
  }));
  return { hosts: reports, exitCode: worst(reports) };
}

/** `deploy unlock`: removes each selected host's lock and says whose it was. */
export async function unlockHosts(
  o: Omit<SessionOptions, 'command'>,
  machine: string,
): Promise<{ hosts: LockReport[]; exitCode: number }> {
  return withHostSessions({ ...o, command: 'unlock' }, async (sessions) => {
    const reports = await Promise.all(
      sessions.map(async (s): Promise<LockReport> => {
        if (s.error) return { host: s.alias, locked: false, stale: false, error: s.error };
        try {
          const out = await runStages(s.runner, [forceUnlock], s.ctx, { quiet: true });
          const line = out.stdout.split('\n').find((l) => l.startsWith(UNLOCKED_MARKER));
          if (line === undefined) return { host: s.alias, locked: false, stale: false };
          let holder: LockRecord = {};
          try {
            holder = JSON.parse(line.slice(UNLOCKED_MARKER.length)) as LockRecord;
          } catch {
            /* an empty or torn owner record still was a lock */
          }
          return {
            host: s.alias,
            locked: true,
            holder,
            description: describeHolder(holder),
            stale: isStale(holder, machine),
          };
        } catch (e) {
          return { host: s.alias, locked: false, stale: false, error: toDeployError(e, s.alias) };
        }
      }),
    );
    return { hosts: reports, exitCode: worst(reports) };
  });
}
