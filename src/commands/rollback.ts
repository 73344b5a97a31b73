import { rollback } from '../engine/rollback.js';
import { selectHosts } from '../engine/selector.js';
import { confirmRun, question, type Ask } from './confirm-run.js';
import { hostsJson, loadForOutput, printErrors, type LifecycleOptions } from './lifecycle-options.js';

export interface RollbackCommandOptions extends LifecycleOptions {
  to?: string;
  force?: boolean;
  ask?: Ask;
}

export async function rollbackCommand(o: RollbackCommandOptions): Promise<number> {
  const { loaded, out } = loadForOutput(o);
  const selected = selectHosts(loaded.config, o.selector);
  await confirmRun(
    loaded.config,
    selected,
    question(`Roll back ${loaded.config.application} on`, selected),
    o,
    out.sanitise,
  );
  const result = await rollback({
    loaded,
    selector: o.selector,
    reporter: out.reporter(o),
    signal: o.signal,
    parallel: o.parallel,
    to: o.to,
    force: o.force,
    command: ['deploy rollback', ...o.selector, ...(o.to ? ['--to', o.to] : [])].join(' '),
  });
  if (o.json) out.json({ exitCode: result.exitCode, hosts: hostsJson(result.hosts) });
  else {
    for (const h of result.hosts) {
      if (h.status === 'rolled_back') out.stderr(`${h.host}: rolled back from ${h.from} to ${h.to}\n`);
      else if (h.to) out.stderr(`${h.host}: still on ${h.to}\n`);
    }
  }
  printErrors(
    out,
    result.error,
    result.hosts.map((h) => h.error),
  );
  return result.exitCode;
}
