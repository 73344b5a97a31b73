import type { Mask } from '../config/secrets.js';
import type { HostOutcome, Reporter, StageInfo, StageState } from '../engine/reporter.js';

export function maskReporter(inner: Reporter, mask: Mask): Reporter {
  return {
    begin: (hosts: readonly string[], stages: readonly StageInfo[]) => inner.begin(hosts, stages),
    stage: (host: string, id: string, state: StageState, detail?: string) =>
      inner.stage(host, id, state, detail === undefined ? undefined : mask(detail)),
    log: (level, message, host) => inner.log(level, mask(message), host),
    progress: inner.progress?.bind(inner),
    end: (outcomes: readonly HostOutcome[]) =>
      inner.end(
        outcomes.map((o) =>
          o.error
            ? { ...o, error: { ...o.error, message: mask(o.error.message), hint: mask(o.error.hint) } }
            : o,
        ),
      ),
  };
}
