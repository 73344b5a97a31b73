import { dryRun } from '../engine/dry-run.js';
import { MemoryReporter } from '../engine/reporter.js';
import { formatDryRun } from '../ui/dry-run.js';
import {
  applySourceFlags,
  errorJson,
  hostOptions,
  loadForOutput,
  type LifecycleOptions,
} from './lifecycle-options.js';

/** `deploy --dry-run`: reads the hosts, prints the plan, changes nothing. */
export async function dryRunCommand(
  o: LifecycleOptions & { revision?: string; requireClean?: boolean; skipUnchanged?: boolean },
): Promise<number> {
  const { loaded, out } = loadForOutput(o);
  applySourceFlags(loaded.config, o);
  const { hosts, exitCode, source } = await dryRun({
    ...hostOptions(o, loaded),
    reporter: new MemoryReporter(),
  });
  if (o.json) {
    out.json({
      dryRun: true,
      exitCode,
      source,
      hosts: hosts.map((h) => ({ ...h, error: errorJson(h.error) })),
    });
  } else
    out.stdout(`${formatDryRun(hosts, source, o.verbose ?? 0, out.sanitise)}
`);
  return exitCode;
}
