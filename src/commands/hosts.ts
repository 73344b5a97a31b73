import { selectHosts } from '../engine/selector.js';
import { formatTable } from '../ui/table.js';
import { loadForOutput, type CommonOptions } from './lifecycle-options.js';

export interface HostsCommandOptions extends CommonOptions {
  selector: string[];
  limit?: number;
}

/**
 * `deploy hosts [selector]`: what a selector picks, without contacting anything; without one,
 * every host (not the default selector: the question is what there is).
 */
export async function hostsCommand(o: HostsCommandOptions): Promise<number> {
  const { loaded, out } = loadForOutput(o);
  const hosts = selectHosts(loaded.config, o.selector.length ? o.selector : ['all'], o.limit);
  if (o.json) {
    out.json(hosts.map((h) => ({ alias: h.alias, ...h.host })));
    return 0;
  }
  const rows = hosts.map(({ alias, host }) =>
    [
      alias,
      host.stage ?? '-',
      host.local
        ? '(local)'
        : `${host.user ? `${host.user}@` : ''}${host.hostname ?? alias}:${host.port ?? 22}`,
      host.deploy_path,
      Object.entries(host.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '-',
    ].map(out.sanitise.field),
  );
  for (const line of formatTable(['HOST', 'STAGE', 'ADDRESS', 'DEPLOY_PATH', 'LABELS'], rows))
    out.stdout(`${line}\n`);
  return 0;
}
