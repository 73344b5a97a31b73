import { environmentSecrets } from '../config/secrets.js';
import type { HostOutcome, Reporter, StageInfo, StageState } from '../engine/reporter.js';

export type Mask = (text: string) => string;

/**
 * Replaces every secret value by `***`; longest first so a secret containing another is fully hidden.
 * SSH_PRIVATE_KEY and SSH_KEY_PASSPHRASE from `env` are always among them, whatever the caller passes.
 */
export function createMask(
  secrets: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Mask {
  const all = [...secrets, ...environmentSecrets(env)];
  const list = [...new Set(all.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  return (text) => list.reduce((t, s) => t.split(s).join('***'), text);
}

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
