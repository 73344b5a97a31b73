import type { HostOutcome, Reporter, StageInfo, StageState } from '../engine/reporter.js';
import type { Sanitiser } from './sanitise.js';

/**
 * What the engine tells a reporter (stage details, log lines, each host's error) quotes server
 * and hook output; every renderer (listr, plain, CI folding) gets it only through the sanitiser.
 */
export function sanitisedReporter(inner: Reporter, out: Sanitiser): Reporter {
  return {
    begin: (hosts: readonly string[], stages: readonly StageInfo[]) => inner.begin(hosts, stages),
    stage: (host: string, id: string, state: StageState, detail?: string) =>
      inner.stage(host, id, state, detail === undefined ? undefined : out.text(detail)),
    log: (level, message, host) => inner.log(level, out.text(message), host),
    progress: inner.progress?.bind(inner),
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
