import { MemoryReporter } from '../engine/reporter.js';
import { readHostStates } from '../engine/releases.js';
import { formatError } from '../ui/print-error.js';
import { formatReleases } from '../ui/releases-table.js';
import { errorJson, loadMasked, printJson, type LifecycleOptions } from './lifecycle-options.js';

/** `deploy releases`: the history of each host, read with the probe alone (no lock). */
export async function releasesCommand(o: LifecycleOptions): Promise<number> {
  const { loaded, mask } = loadMasked(o);
  const { hosts, exitCode } = await readHostStates({
    loaded,
    selector: o.selector,
    reporter: new MemoryReporter(),
    signal: o.signal,
    parallel: o.parallel,
  });
  if (o.json) {
    printJson(mask, {
      exitCode,
      hosts: hosts.map((h) => ({
        host: h.host,
        current: h.current,
        locked: h.lock !== undefined,
        releases: h.releases,
        error: errorJson(h.error),
      })),
    });
  } else process.stdout.write(mask(formatReleases(hosts)));
  for (const h of hosts) if (h.error && !o.json) process.stderr.write(`${formatError(h.error, mask)}\n`);
  return exitCode;
}
