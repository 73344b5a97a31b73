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
  const picked = entries.filter(([alias, host]) =>
    selectors.some((sel) => sel.split(',').every((term) => matchesTerm(alias, host, term.trim()))),
  );
  if (picked.length === 0) throw new DeployError('ESELECTOR', { selector: selectors.join(' '), choices });
  return picked.slice(0, limit && limit > 0 ? limit : undefined).map(([alias, host]) => ({ alias, host }));
}
