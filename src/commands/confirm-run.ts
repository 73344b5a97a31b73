import type { Config } from '../config/schema.js';
import { DeployError } from '../definitions/errors.js';
import { confirmingHosts, type SelectedHost } from '../engine/selector.js';
import { askYesNo } from '../ui/confirm.js';

export type Ask = (question: string) => Promise<boolean | undefined>;

/**
 * The guard rail of `confirm: true` hosts, before any host is contacted: on a terminal the
 * question (`Deploy shop to web1, web2? [y/N] `), anywhere else a refusal (exit 2) unless --yes.
 * A declined question is exit 2 too: nothing was done. Returns when the run may go ahead.
 */
export async function confirmRun(
  config: Config,
  selected: readonly SelectedHost[],
  question: string,
  o: { yes?: boolean; ask?: Ask },
): Promise<void> {
  const confirming = confirmingHosts(config, selected);
  if (confirming.length === 0 || o.yes) return;
  const answer = await (o.ask ?? askYesNo)(question);
  const hosts = selected.map((h) => h.alias).join(', ');
  if (answer === undefined)
    throw new DeployError('ECONFIRM', { confirming: confirming.map((h) => h.alias).join(', '), hosts });
  if (!answer) throw new DeployError('ECONFIRM', { declined: true, hosts });
}

/** `Deploy shop to web1, web2? [y/N] ` and its kin: what is about to change, and where. */
export const question = (what: string, selected: readonly SelectedHost[]): string =>
  `${what} ${selected.map((h) => h.alias).join(', ')}? [y/N] `;
