import { probeState } from '../stages/probe.js';
import type { DeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { worstExit } from './exit-status.js';
import { runStages } from './executor.js';
import { withHostSessions, type SessionOptions } from './host-session.js';
import { toDeployError } from '../definitions/errors.js';
import { missingReleases } from './missing-releases.js';
import { liveRelease, parseRemoteState, type LockRecord, type RemoteState } from '../layout/remote-state.js';

type ReleaseRowStatus = 'current' | 'success' | 'failed' | 'rolled_back' | 'started' | 'unknown' | 'missing';

export interface ReleaseRow {
  name: string;
  status: ReleaseRowStatus;
  /** The status the log records; `current` is where the link points, not a log state. */
  logged?: string;
  started_at?: string;
  ended_at?: string;
  user?: string;
  machine?: string;
  ci?: { job?: string; url?: string };
  revision?: string;
  artifact?: string;
  reason?: string;
}

export interface HostState {
  host: string;
  releases: ReleaseRow[];
  current?: string;
  lock?: LockRecord;
  error?: DeployError;
}

/** One row per release directory on the host, oldest first; the log says who, when and how it ended. */
export function releaseRows(remote: RemoteState): ReleaseRow[] {
  const current = liveRelease(remote);
  const missing = missingReleases(remote);
  return [...remote.releases, ...missing].sort().map((name) => {
    const e = remote.history.get(name);
    const logged = e?.status;
    return {
      name,
      status: missing.includes(name)
        ? 'missing'
        : name === current
          ? 'current'
          : ((logged ?? 'unknown') as ReleaseRowStatus),
      logged,
      started_at: e?.started_at,
      ended_at: e?.ended_at,
      user: e?.user,
      machine: e?.machine,
      ci: e?.ci,
      revision: e?.revision,
      artifact: e?.artifact,
      reason: e?.reason,
    };
  });
}

/** Reads every selected host with the probe alone: no lock, nothing written. */
export async function readHostStates(
  o: Omit<SessionOptions, 'command'>,
): Promise<{ hosts: HostState[]; exitCode: number }> {
  return withHostSessions({ ...o, command: 'releases' }, async (sessions) => {
    const hosts = await Promise.all(
      sessions.map(async (s): Promise<HostState> => {
        if (s.error) return { host: s.alias, releases: [], error: s.error };
        try {
          const out = await runStages(s.runner, [probeState], s.ctx, { quiet: true });
          const remote = parseRemoteState(out.stdout);
          return {
            host: s.alias,
            releases: releaseRows(remote),
            current: liveRelease(remote),
            lock: remote.lock,
          };
        } catch (e) {
          return { host: s.alias, releases: [], error: toDeployError(e, s.alias) };
        }
      }),
    );
    return { hosts, exitCode: worstExit(hosts.map((h) => h.error?.exitCode ?? EXIT.ok)) };
  });
}
