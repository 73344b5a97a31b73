import { rollback } from '../engine/rollback.js';
import { chooseReporter } from '../ui/choose.js';
import { maskReporter } from '../ui/mask.js';
import { formatError } from '../ui/print-error.js';
import { loadMasked, printJson, type LifecycleOptions } from './lifecycle-options.js';

export interface RollbackCommandOptions extends LifecycleOptions {
  to?: string;
  force?: boolean;
}

export async function rollbackCommand(o: RollbackCommandOptions): Promise<number> {
  const { loaded, mask } = loadMasked(o);
  const reporter = maskReporter(chooseReporter(o), mask);
  const result = await rollback({
    loaded,
    selector: o.selector,
    reporter,
    signal: o.signal,
    parallel: o.parallel,
    to: o.to,
    force: o.force,
    command: ['deploy rollback', ...o.selector, ...(o.to ? ['--to', o.to] : [])].join(' '),
  });
  if (o.json) printJson(mask, { exitCode: result.exitCode, hosts: result.hosts });
  else {
    for (const h of result.hosts) {
      if (h.status === 'rolled_back')
        process.stderr.write(`${h.host}: rolled back from ${h.from} to ${h.to}\n`);
      else if (h.to) process.stderr.write(`${h.host}: still on ${h.to}\n`);
    }
  }
  if (result.error) process.stderr.write(`${formatError(result.error, mask)}\n`);
  return result.exitCode;
}
