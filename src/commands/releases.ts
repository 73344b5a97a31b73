import { MemoryReporter } from '../engine/reporter.js';
import { readHostStates } from '../engine/releases.js';
import { formatReleases } from '../ui/releases-table.js';
import { errorJson, hostOptions, loadForOutput, type LifecycleOptions } from './lifecycle-options.js';

/** `deploy releases`: the history of each host, read with the probe alone (no lock). */
export async function releasesCommand(o: LifecycleOptions): Promise<number> {
  const { loaded, out } = loadForOutput(o);
  const { hosts, exitCode } = await readHostStates({
    ...hostOptions(o, loaded),
    reporter: new MemoryReporter(),
  });
  if (o.json) {
    out.json({
      exitCode,
      hosts: hosts.map((h) => ({
        host: h.host,
        current: h.current,
        locked: h.lock !== undefined,
        releases: h.releases,
        error: errorJson(h.error),
      })),
    });
  } else out.stdout(formatReleases(hosts, out.sanitise));
  for (const h of hosts) if (h.error && !o.json) out.error(h.error);
  return exitCode;
}
