import dayjs from 'dayjs';
import utc from 'dayjs/plugin/utc.js';
import { sh } from '../remote/sh.js';

dayjs.extend(utc);

export type ReleaseStatus = 'started' | 'success' | 'failed' | 'rolled_back';

export interface ReleaseLogEntry {
  name: string;
  status: ReleaseStatus;
  started_at: string;
  ended_at?: string;
  user: string;
  machine: string;
  revision?: string;
  /** The artifact deployed (`deploy --artifact`): production runs what staging ran when the ids match. */
  artifact?: string;
  ci?: { job?: string; url?: string };
  reason?: string;
}

/**
 * Release names sort in time order; this is the seed's `YYYYMMDD-HHmmss` in UTC. Only names of
 * this form are releases: a directory or log line named otherwise (`..`, or the name with a
 * newline after it, which a line-based read would cut back to a valid one) is not.
 */
export const RELEASE_PATTERN = /^\d{8}-\d{6}$/;
const RELEASE_FORMAT = 'YYYYMMDD-HHmmss';
/** The same as a shell `case` pattern, which matches the whole word (a trailing newline fails it). */
export const RELEASE_GLOB = sh`[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9]`;

/**
 * A fresh name later than every existing one. Two deploys in the same second
 * (or a clock that went back) get the next free second instead of reusing a directory.
 */
export function nextReleaseName(now: Date, existing: readonly string[]): string {
  let t = dayjs.utc(now).startOf('second');
  const newest = [...existing]
    .filter((n) => RELEASE_PATTERN.test(n))
    .sort()
    .at(-1);
  const floor = newest ? releaseTime(newest) : undefined;
  if (floor?.isValid() && !t.isAfter(floor)) t = floor.add(1, 'second');
  return t.format(RELEASE_FORMAT);
}

function releaseTime(name: string): dayjs.Dayjs {
  const [d, t] = [name.slice(0, 8), name.slice(9, 15)];
  return dayjs.utc(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}Z`,
  );
}

/** The log is append-only; the last line about a release is its state. */
export function foldLog(lines: readonly ReleaseLogEntry[]): Map<string, ReleaseLogEntry> {
  const byName = new Map<string, ReleaseLogEntry>();
  for (const e of lines) byName.set(e.name, { ...byName.get(e.name), ...e });
  return byName;
}

export function parseLog(text: string): { entries: ReleaseLogEntry[]; bad: number } {
  const entries: ReleaseLogEntry[] = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as ReleaseLogEntry;
      if (typeof e.name === 'string' && RELEASE_PATTERN.test(e.name) && typeof e.status === 'string')
        entries.push(e);
      else bad++;
    } catch {
      bad++;
    }
  }
  return { entries, bad };
}
