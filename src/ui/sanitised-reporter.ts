import type { HostOutcome, Reporter, StageInfo, StageState } from '../engine/reporter.js';
import type { Sanitiser } from './sanitise.js';

/**
 * What the engine tells a reporter (stage details, log lines, hook output, the commands and
 * scripts it sends, each host's error) quotes server and hook output and config values; every
 * renderer (listr, plain, CI folding, the log file) gets it only through the sanitiser. Hook
 * output comes line by line, so each line is masked, shown and neutralised whole.
 */
export function sanitisedReporter(inner: Reporter, out: Sanitiser): Reporter {
  return {
    begin: (hosts: readonly string[], stages: readonly StageInfo[], action?: string) =>
      inner.begin(hosts, stages, action),
    stage: (host: string, id: string, state: StageState, detail?: string) =>
      inner.stage(host, id, state, detail === undefined ? undefined : out.text(detail)),
    log: (level, message, host) => inner.log(level, out.text(message), host),
    progress: inner.progress?.bind(inner),
    output: (host, stageId, line) => inner.output?.(host, stageId, out.text(line)),
    trace: (host, kind, text) => inner.trace?.(host, kind, out.text(text)),
    end: (outcomes: readonly HostOutcome[]) =>
      inner.end(
        outcomes.map((o) =>
          o.error
            ? {
                ...o,
                error: { ...o.error, message: out.text(o.error.message), hint: out.text(o.error.hint) },
              }
            : o,
        ),
      ),
  };
}
