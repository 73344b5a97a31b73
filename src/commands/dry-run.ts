import { dryRun } from '../engine/dry-run.js';
import { MemoryReporter } from '../engine/reporter.js';
import { formatDryRun } from '../ui/dry-run.js';
import { errorJson, loadMasked, printJson, type LifecycleOptions } from './lifecycle-options.js';

/** `deploy --dry-run`: reads the hosts, prints the plan, changes nothing. */
export async function dryRunCommand(o: LifecycleOptions): Promise<number> {
  const { loaded, mask } = loadMasked(o);
  const { hosts, exitCode } = await dryRun({
    loaded,
    selector: o.selector,
    reporter: new MemoryReporter(),
    signal: o.signal,
    parallel: o.parallel,
  });
  if (o.json) {
    printJson(mask, {
      dryRun: true,
      exitCode,
      hosts: hosts.map((h) => ({ ...h, error: errorJson(h.error) })),
    });
  } else process.stdout.write(`${mask(formatDryRun(hosts))}\n`);
  return exitCode;
}
