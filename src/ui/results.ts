import type { HostOutcome } from '../engine/reporter.js';
import { formatTable } from './table.js';

/** The end-of-run summary: one row per host. */
export function formatResults(outcomes: readonly HostOutcome[]): string[] {
  return formatTable(
    ['HOST', 'RELEASE', 'STATUS', 'DURATION'],
    outcomes.map((o) => [o.host, o.release ?? '-', o.status, `${(o.durationMs / 1000).toFixed(1)}s`]),
  );
}
