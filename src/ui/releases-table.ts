import dayjs from 'dayjs';
import relativeTime from 'dayjs/plugin/relativeTime.js';
import utc from 'dayjs/plugin/utc.js';
import type { HostState, ReleaseRow } from '../engine/releases.js';
import type { LockReport } from '../engine/locks.js';
import { createSanitiser, type Sanitiser } from './sanitise.js';
import { formatTable } from './table.js';
import { deployCommand } from '../definitions/invocation.js';

dayjs.extend(utc);
dayjs.extend(relativeTime);

const STATUS: Record<ReleaseRow['status'], string> = {
  current: 'current',
  success: 'success',
  failed: 'failed',
  rolled_back: 'rolled back',
  started: 'started (unfinished)',
  unknown: 'unknown (not in the log)',
  missing: 'missing (directory deleted by hand)',
};

function formatWhen(iso: string | undefined, now: Date): string {
  if (!iso) return '-';
  const t = dayjs.utc(iso);
  return t.isValid() ? `${t.format('YYYY-MM-DD HH:mm:ss')} UTC (${t.from(dayjs.utc(now))})` : iso;
}

const origin = (r: ReleaseRow): string => {
  const ci = r.ci?.url ?? (r.ci?.job ? `CI job ${r.ci.job}` : undefined);
  return [r.machine, ci].filter(Boolean).join(', ') || '-';
};

/** Enough of an artifact id to tell two apart; `--json` gives the whole id. */
const ARTIFACT_SHOWN = 12;

/**
 * `deploy releases`: a table per host, newest first, as a person scans it. Every cell but the
 * status comes from the server's release log; each passes the sanitiser as one field, so a
 * newline or an escape sequence in it can neither break the table nor reach the terminal.
 */
export function formatReleases(
  hosts: readonly HostState[],
  clean: Sanitiser = createSanitiser(),
  now = new Date(),
): string {
  const out: string[] = [];
  for (const h of hosts) {
    out.push(`${h.host}:`);
    if (h.error) {
      out.push(`  error ${h.error.code}: ${h.error.message}`, '');
      continue;
    }
    if (h.releases.length === 0) {
      out.push('  no releases', '');
      continue;
    }
    // The artifact column only where some release was deployed from one.
    const artifacts = h.releases.some((r) => r.artifact);
    const rows = [...h.releases]
      .reverse()
      .map((r) =>
        [
          r.name,
          STATUS[r.status],
          formatWhen(r.started_at, now),
          r.user ?? '-',
          origin(r),
          r.revision ?? '-',
          ...(artifacts ? [r.artifact ? r.artifact.slice(0, ARTIFACT_SHOWN) : '-'] : []),
        ].map(clean.field),
      );
    out.push(
      ...formatTable(
        ['RELEASE', 'STATUS', 'WHEN', 'WHO', 'FROM', 'REVISION', ...(artifacts ? ['ARTIFACT'] : [])],
        rows,
      ).map((l) => `  ${l}`),
    );
    if (h.lock)
      out.push(
        `  (locked: a deploy is running or was interrupted; see \`${deployCommand`lock status ${h.host}`}\`)`,
      );
    out.push('');
  }
  return out.join('\n');
}

/** `deploy lock status` and `deploy unlock`: one line per host; the holder's record is the server's. */
export function formatLocks(
  reports: readonly LockReport[],
  verb: 'held' | 'removed',
  out: Sanitiser = createSanitiser(),
): string {
  return reports
    .map((r) => {
      if (r.error) return `${r.host}: error ${r.error.code}: ${r.error.message}`;
      if (!r.locked) return `${r.host}: ${verb === 'held' ? 'not locked' : 'was not locked'}`;
      const line =
        verb === 'held'
          ? `${r.host}: locked by ${out.field(r.description ?? '')}`
          : `${r.host}: removed the lock of ${out.field(r.description ?? '')}`;
      const stale = r.stale
        ? verb === 'held'
          ? `\n  stale: that process is gone from this machine. Run \`${deployCommand`unlock ${r.host}`}\`.`
          : ' (stale: its process was gone)'
        : '';
      return line + stale;
    })
    .join('\n');
}
