import { dryRun } from '../engine/dry-run.js';
import { MemoryReporter } from '../engine/reporter.js';
import { formatDryRun } from '../ui/dry-run.js';
import {
  applySourceFlags,
  errorJson,
  loadMasked,
  printJson,
  type LifecycleOptions,
} from './lifecycle-options.js';

/** `deploy --dry-run`: reads the hosts, prints the plan, changes nothing. */
export async function dryRunCommand(
  o: LifecycleOptions & { revision?: string; requireClean?: boolean },
): Promise<number> {
  const { loaded, mask } = loadMasked(o);
  applySourceFlags(loaded.config, o);
  const { hosts, exitCode, source } = await dryRun({
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
      source,
      hosts: hosts.map((h) => ({ ...h, error: errorJson(h.error) })),
    });
  } else process.stdout.write(`${mask(formatDryRun(hosts, source, o.verbose))}\n`);
  return exitCode;
}
