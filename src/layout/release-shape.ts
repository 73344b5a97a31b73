import { createHash } from 'node:crypto';
import type { Config, HostConfig } from '../config/schema.js';
import { packageVersion } from '../definitions/package-root.js';

/**
 * Settings that say how to reach a host, how files travel, or what a deploy compares, rather than
 * what goes into a release or runs on it. Left out, a deploy from CI and one from a laptop (other
 * key paths, another store directory) of the same source are alike. Labels and stage count: they
 * pick hooks and hooks see them. Every other key counts too, so a key added later makes a release
 * differ until it is listed here: the safe mistake.
 */
const NOT_RELEASE = new Set([
  'source',
  'revision',
  'require_clean',
  'skip_unchanged',
  'artifact',
  'artifacts',
  'fetch',
  'default_selector',
  'confirm',
  'notify',
  'parallel',
  'ssh_config_file',
  'hostname',
  'port',
  'identity_file',
  'known_hosts_file',
  'host_key_checking',
  'proxy_jump',
  'forward_agent',
  'connect_timeout',
]);

const releaseKeys = (o: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([k]) => !NOT_RELEASE.has(k)));

/**
 * A digest of what, besides the files, makes a release on this host: deploy.yml as it applies
 * here (hooks, shared paths, recipe, modes) and shipshape's version (its recipes and scripts).
 * `.deploy/finished` records it (layout/finished.ts); `skip_unchanged` compares it. Secrets change it too, as they
 * should, and a digest does not show them.
 */
export function releaseShape(config: Config, alias: string, host: HostConfig): string {
  const { hosts: _hosts, ...rest } = config;
  const text = JSON.stringify({
    shipshape: packageVersion(),
    config: releaseKeys(rest),
    host: { alias, ...releaseKeys(host) },
  });
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
