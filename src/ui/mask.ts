import type { HostOutcome, Reporter, StageInfo, StageState } from '../engine/reporter.js';

export type Mask = (text: string) => string;

/** Replaces every secret value by `***`; longest first so a secret containing another is fully hidden. */
export function createMask(secrets: readonly string[]): Mask {
  const list = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  return (text) => list.reduce((t, s) => t.split(s).join('***'), text);
}

export function maskReporter(inner: Reporter, mask: Mask): Reporter {
  return {
    begin: (hosts: readonly string[], stages: readonly StageInfo[]) => inner.begin(hosts, stages),
    stage: (host: string, id: string, state: StageState, detail?: string) =>
      inner.stage(host, id, state, detail === undefined ? undefined : mask(detail)),
    log: (level, message, host) => inner.log(level, mask(message), host),
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
