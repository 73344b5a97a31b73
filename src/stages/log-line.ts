import type { ReleaseLogEntry, ReleaseStatus } from '../layout/release-log.js';
import { sh, type ShellText } from '../remote/sh.js';
import type { ReleaseContext } from './types.js';

export function logEntry(
  ctx: ReleaseContext,
  status: ReleaseStatus,
  extra: Partial<ReleaseLogEntry> = {},
): ReleaseLogEntry {
  return {
    name: ctx.release,
    status,
    started_at: ctx.run.started_at,
    ...(status === 'started' ? {} : { ended_at: new Date().toISOString() }),
    user: ctx.run.user,
    machine: ctx.run.machine,
    revision: ctx.source.revision,
    ...(ctx.source.artifact ? { artifact: ctx.source.artifact.id } : {}),
    ci: ctx.run.ci ? { job: ctx.run.ci.job, url: ctx.run.ci.url } : undefined,
    ...extra,
    // A reason quotes error messages, which may carry a health-check URL or response body.
    ...(extra.reason !== undefined ? { reason: ctx.mask ? ctx.mask(extra.reason) : extra.reason } : {}),
  };
}

/** One JSON line appended to the release log; appends of one line are atomic enough under the lock. */
export const appendLog = (logFile: string, entry: ReleaseLogEntry): ShellText =>
  sh`printf '%s\n' ${JSON.stringify(entry)} >> ${logFile}`;
