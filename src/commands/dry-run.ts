import { dryRun } from '../engine/dry-run.js';
import { MemoryReporter } from '../engine/reporter.js';
import { formatDryRun } from '../ui/dry-run.js';
import { applySourceFlags, errorJson, loadForOutput, type LifecycleOptions } from './lifecycle-options.js';

/** `deploy --dry-run`: reads the hosts, prints the plan, changes nothing. */
export async function dryRunCommand(
  o: LifecycleOptions & { revision?: string; requireClean?: boolean },
): Promise<number> {
  const { loaded, out } = loadForOutput(o);
  applySourceFlags(loaded.config, o);
  const { hosts, exitCode, source } = await dryRun({
    loaded,
    selector: o.selector,
    reporter: new MemoryReporter(),
    signal: o.signal,
    parallel: o.parallel,
  });
  if (o.json) {
    out.json({
      dryRun: true,
      exitCode,
      source,
      hosts: hosts.map((h) => ({ ...h, error: errorJson(h.error) })),
    });
  } else
    out.stdout(`${formatDryRun(hosts, source, o.verbose)}
`);
  return exitCode;
}
