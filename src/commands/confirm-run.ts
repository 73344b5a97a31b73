import type { Config } from '../config/schema.js';
import { DeployError } from '../definitions/errors.js';
import { confirmingHosts, type SelectedHost } from '../engine/selector.js';
import { askYesNo } from '../ui/confirm.js';
import type { Sanitiser } from '../ui/sanitise.js';

export type Ask = (question: string) => Promise<boolean | undefined>;

/**
 * The guard rail of `confirm: true` hosts, before any host is contacted: on a terminal the
 * question (`Deploy shop to web1, web2? [y/N] `), anywhere else a refusal (exit 2) unless --yes.
 * A declined question is exit 2 too: nothing was done. Returns when the run may go ahead.
 * `clean` is the command's sanitiser: the question quotes deploy.yml and the command line, so it
 * must be masked with the same secrets as the rest of the command's output.
 */
export async function confirmRun(
  config: Config,
  selected: readonly SelectedHost[],
  question: string,
  o: { yes?: boolean; ask?: Ask },
  clean: Sanitiser,
): Promise<void> {
  const confirming = confirmingHosts(config, selected);
  if (confirming.length === 0 || o.yes) return;
  const answer = await (o.ask ?? ((q: string) => askYesNo(q, clean)))(question);
  const hosts = selected.map((h) => h.alias).join(', ');
  if (answer === undefined)
    throw new DeployError('ECONFIRM', { confirming: confirming.map((h) => h.alias).join(', '), hosts });
  if (!answer) throw new DeployError('ECONFIRM', { declined: true, hosts });
}

/** `Deploy shop to web1, web2? [y/N] ` and its kin: what is about to change, and where. */
export const question = (what: string, selected: readonly SelectedHost[]): string =>
  `${what} ${selected.map((h) => h.alias).join(', ')}? [y/N] `;
