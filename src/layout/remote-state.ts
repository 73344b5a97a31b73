import { PREVIOUS_KINDS, readPreviousLine, type PreviousReleaseRaw } from '../source/previous-release.js';
import { foldLog, parseLog, RELEASE_PATTERN, type ReleaseLogEntry } from './release-log.js';
import { parseFinished, type Finished } from './finished.js';

export interface LockRecord {
  user?: string;
  machine?: string;
  pid?: number;
  started_at?: string;
  command?: string;
  ci?: { provider?: string; job?: string; url?: string };
  token?: string;
}

export interface RemoteState {
  current: { kind: 'none' } | { kind: 'link'; target: string; release?: string } | { kind: 'other' };
  /** Directory names under releases/ that look like releases, oldest first. */
  releases: string[];
  /** Every line of the release log, in order. */
  log: ReleaseLogEntry[];
  /** The folded state of each release named in the log. */
  history: Map<string, ReleaseLogEntry>;
  lock?: LockRecord;
  badLogLines: number;
  /** Shared paths no deploy has seeded on this host yet (layout/paths.ts `seeded`). */
  sharedUnseeded: Set<string>;
  /** skip_unchanged: shared directories and required files missing from shared/ (stages/probe.ts). */
  sharedMissing: Set<string>;
  /** skip_unchanged: shared paths (relative) the live release does not link into shared/ (stages/probe.ts). */
  sharedUnlinked: Set<string>;
  /** Public files (relative to public_dir) a deploy placed that shared/ lacks, or whose update still waits. */
  publicUnsettled: Set<string>;
  /** The release `current` points to, its upload manifest and on-disk listing (for incremental upload). */
  previous?: PreviousReleaseRaw;
  /** The release the probe began to list for the cleanup (persistence/rescue.ts planGuessListAhead). */
  listedAhead?: string;
  /** The last release whose deploy finished, and what made it (layout/finished.ts). */
  finished?: Finished;
}

/** The release `current` points to, if it is a link to one. */
export const liveRelease = (remote: Pick<RemoteState, 'current'>): string | undefined =>
  remote.current.kind === 'link' ? remote.current.release : undefined;

export const PROBE_BEGIN = '@@shipshape-probe-begin';
export const PROBE_END = '@@shipshape-probe-end';

export function emptyRemoteState(): RemoteState {
  return {
    current: { kind: 'none' },
    releases: [],
    log: [],
    history: new Map(),
    badLogLines: 0,
    sharedUnseeded: new Set(),
    sharedMissing: new Set(),
    sharedUnlinked: new Set(),
    publicUnsettled: new Set(),
  };
}

/**
 * A copy that does not point into the probe's output: V8 makes a substring a view of its parent,
 * and a release name kept for the whole deploy would keep the whole output alive (4.5 MB at
 * 40,000 files, most of it the listings that are dropped once the upload is planned).
 */
const own = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/** Parses the probe stage's tab-separated report. */
export function parseRemoteState(stdout: string): RemoteState {
  const start = stdout.indexOf(PROBE_BEGIN);
  const end = stdout.indexOf(PROBE_END, start);
  const body = start >= 0 ? stdout.slice(start + PROBE_BEGIN.length, end >= 0 ? end : undefined) : '';
  const state = emptyRemoteState();
  const logLines: string[] = [];
  for (const line of body.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const [kind, value] = [line.slice(0, tab), line.slice(tab + 1)];
    if (kind === 'current-link') {
      const m = /^releases\/([^/]+)$/.exec(value);
      const release = m?.[1] !== undefined && RELEASE_PATTERN.test(m[1]) ? own(m[1]) : undefined;
      state.current = { kind: 'link', target: own(value), release };
    } else if (kind === 'current-other') {
      state.current = { kind: 'other' };
    } else if (kind === 'release' && RELEASE_PATTERN.test(value)) {
      state.releases.push(own(value));
    } else if (kind === 'listed-ahead' && RELEASE_PATTERN.test(value)) {
      state.listedAhead = own(value);
    } else if (kind === 'finished') {
      state.finished = parseFinished(value);
    } else if (kind === 'shared-unseeded') {
      state.sharedUnseeded.add(own(value));
    } else if (kind === 'shared-missing') {
      state.sharedMissing.add(own(value));
    } else if (kind === 'shared-unlinked') {
      state.sharedUnlinked.add(own(value));
    } else if (kind === 'public-missing' || kind === 'public-pending') {
      state.publicUnsettled.add(own(value));
    } else if (kind === 'log') {
      logLines.push(value);
    } else if (PREVIOUS_KINDS.includes(kind as (typeof PREVIOUS_KINDS)[number])) {
      state.previous = readPreviousLine(state.previous, kind, value);
    } else if (kind === 'lock') {
      try {
        state.lock = value ? (JSON.parse(value) as LockRecord) : {};
      } catch {
        state.lock = {};
      }
    }
  }
  state.releases.sort();
  const { entries, bad } = parseLog(logLines.join('\n'));
  state.log = entries;
  state.history = foldLog(entries);
  state.badLogLines = bad;
  return state;
}
