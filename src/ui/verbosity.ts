import type { HostOutcome, Reporter, StageInfo, StageState, TraceKind } from '../engine/reporter.js';
import { formatResults } from './results.js';

/**
 * How much a run shows: `-q` errors and the summary only; by default the stages, warnings and
 * what hooks and tasks print; `-v` each stage's commands as well; `-vv` every remote script.
 */
export type Verbosity = 'quiet' | 0 | 1 | 2;

export const verbosityOf = (o: { verbose?: number | boolean; quiet?: boolean }): Verbosity =>
  o.quiet ? 'quiet' : (Math.min(2, Number(o.verbose ?? 0)) as 0 | 1 | 2);

const SHOWN_FROM: Record<TraceKind, number> = { command: 1, script: 2 };

/** The reporter without the traces this verbosity leaves out. */
export function atVerbosity(inner: Reporter, level: Exclude<Verbosity, 'quiet'>): Reporter {
  return {
    begin: (...a) => inner.begin(...a),
    stage: (...a) => inner.stage(...a),
    log: (...a) => inner.log(...a),
    progress: inner.progress?.bind(inner),
    output: inner.output?.bind(inner),
    trace: (host, kind, text) => {
      if (level >= SHOWN_FROM[kind]) inner.trace?.(host, kind, text);
    },
    end: (outcomes) => inner.end(outcomes),
  };
}

/** `-q`: nothing while the run goes, then its errors and the summary table. */
export class QuietReporter implements Reporter {
  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}
  begin(_hosts: readonly string[], _stages: readonly StageInfo[]): void {}
  stage(_host: string, _id: string, _state: StageState): void {}
  log(level: 'info' | 'warn' | 'error', message: string, host?: string): void {
    if (level === 'error') this.write(`error: ${host ? `[${host}] ` : ''}${message}`);
  }
  async end(outcomes: readonly HostOutcome[]): Promise<void> {
    for (const row of formatResults(outcomes)) this.write(row);
  }
}

/** Every event to each reporter in turn: the display and the log file. */
export function tee(...all: Reporter[]): Reporter {
  return {
    begin: (...a) => all.forEach((r) => r.begin(...a)),
    stage: (...a) => all.forEach((r) => r.stage(...a)),
    log: (...a) => all.forEach((r) => r.log(...a)),
    progress: (...a) => all.forEach((r) => r.progress?.(...a)),
    output: (...a) => all.forEach((r) => r.output?.(...a)),
    trace: (...a) => all.forEach((r) => r.trace?.(...a)),
    end: async (outcomes) => {
      for (const r of all) await r.end(outcomes);
    },
  };
}
