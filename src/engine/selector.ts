import type { Config, HostConfig } from '../config/schema.js';
import { DeployError } from '../definitions/errors.js';

export interface SelectedHost {
  alias: string;
  host: HostConfig;
}

function matchesTerm(alias: string, host: HostConfig, term: string): boolean | undefined {
  if (term === 'all') return true;
  const eq = term.indexOf('=');
  if (eq > 0) {
    const [key, value] = [term.slice(0, eq), term.slice(eq + 1)];
    if (key === 'stage') return host.stage === value;
    if (key === 'host' || key === 'alias') return alias === value;
    return host.labels[key] === value;
  }
  return alias === term || host.stage === term;
}

/** Whether one selector (terms joined by `,`, all of which must match) picks this host. */
const selectorPicks = (selector: string, alias: string, host: HostConfig): boolean =>
  selector.split(',').every((term) => matchesTerm(alias, host, term.trim()));

/**
 * The selected hosts that ask before a run changes them: `confirm: true` on the host, or a
 * top-level `confirm: true`, or a top-level list of selectors one of which picks the host.
 */
export function confirmingHosts(config: Config, selected: readonly SelectedHost[]): SelectedHost[] {
  const c = config.confirm;
  return selected.filter(
    ({ alias, host }) =>
      host.confirm ?? (c === true || (Array.isArray(c) && c.some((sel) => selectorPicks(sel, alias, host)))),
  );
}

/**
 * A selector is a host alias, a stage, `label=value`, or `all`. Terms joined by `,` must
 * all match (AND); several selectors separated by spaces or given as a list match any (OR).
 */
export function selectHosts(
  config: Config,
  selector: string | readonly string[] | undefined,
  /** `--limit`: only the first n matches, in deploy.yml order, for a trial run. */
  limit?: number,
): SelectedHost[] {
  const given = typeof selector === 'string' ? selector.split(/\s+/).filter(Boolean) : [...(selector ?? [])];
  const selectors = given.length ? given : config.default_selector ? [config.default_selector] : [];
  const entries = Object.entries(config.hosts);
  const stages = [...new Set(entries.map(([, h]) => h.stage).filter((s): s is string => !!s))];
  const choices = [
    ...entries.map(([a]) => a),
    ...stages.map((s) => `${s} (stage)`),
    'label=value',
    'all',
  ].join(', ');
  if (selectors.length === 0) throw new DeployError('ESELECTOR', { choices });
  const picked = entries.filter(([alias, host]) => selectors.some((sel) => selectorPicks(sel, alias, host)));
  if (picked.length === 0) throw new DeployError('ESELECTOR', { selector: selectors.join(' '), choices });
  return picked.slice(0, limit && limit > 0 ? limit : undefined).map(([alias, host]) => ({ alias, host }));
}
