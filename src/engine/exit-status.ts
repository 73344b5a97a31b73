import { DeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';

/** A run over several hosts exits with its most severe code: the highest one. */
export const worstExit = (codes: Iterable<number>): number => Math.max(EXIT.ok, ...codes);

/** The error to name for the whole run: the first of those with the worst exit code. */
export function worstError<E extends { exitCode: number }>(errors: Iterable<E | undefined>): E | undefined {
  let worst: E | undefined;
  for (const e of errors) if (e && (!worst || e.exitCode > worst.exitCode)) worst = e;
  return worst;
}

/** A stopped run exits 130 or 143 by the signal that stopped it, whatever else went wrong meanwhile. */
export function interruption(
  signal: AbortSignal | undefined,
  switched: boolean,
  /** A rollback (its selector words) makes no release: its hint speaks of the target, not of a new release. */
  rollback?: { selector: readonly string[] },
): { error: DeployError; exitCode: number } | undefined {
  if (!signal?.aborted) return undefined;
  const name = String(signal.reason ?? 'SIGINT');
  return {
    error: new DeployError('EINTERRUPTED', { signal: name, switched, ...(rollback && { rollback }) }),
    exitCode: name === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint,
  };
}

/**
 * A stopped deploy, by where each host was left: the new release live (it stays), or not. When
 * some are and some are not, the hint names both: "stays live" alone is wrong for the others.
 */
export function deployInterruption(
  signal: AbortSignal | undefined,
  hosts: readonly { host: string; live: boolean }[],
): { error: DeployError; exitCode: number } | undefined {
  const live = hosts.filter((h) => h.live).map((h) => h.host);
  const stopped = interruption(signal, live.length > 0);
  if (!stopped || live.length === 0 || live.length === hosts.length) return stopped;
  const notLive = hosts.filter((h) => !h.live).map((h) => h.host);
  const { details } = stopped.error as DeployError<'EINTERRUPTED'>;
  return { ...stopped, error: new DeployError('EINTERRUPTED', { ...details, live, notLive }) };
}
