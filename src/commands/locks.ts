import os from 'node:os';
import { lockStatus, unlockHosts } from '../engine/locks.js';
import { MemoryReporter } from '../engine/reporter.js';
import { formatLocks } from '../ui/releases-table.js';
import { errorJson, loadForOutput, type LifecycleOptions } from './lifecycle-options.js';

const run = async (o: LifecycleOptions, which: 'status' | 'unlock'): Promise<number> => {
  const { loaded, out } = loadForOutput(o);
  const options = {
    loaded,
    selector: o.selector,
    reporter: new MemoryReporter(),
    signal: o.signal,
    parallel: o.parallel,
  };
  const { hosts, exitCode } =
    which === 'status' ? await lockStatus(options, os.hostname()) : await unlockHosts(options, os.hostname());
  if (o.json) {
    out.json({
      exitCode,
      hosts: hosts.map((h) => ({ ...h, error: errorJson(h.error) })),
    });
  } else out.stdout(`${formatLocks(hosts, which === 'status' ? 'held' : 'removed', out.sanitise)}\n`);
  return exitCode;
};

/** `deploy lock status`: who holds each host's lock; read-only. */
export const lockStatusCommand = (o: LifecycleOptions) => run(o, 'status');

/** `deploy unlock`: removes the lock and says whose it was. */
export const unlockCommand = (o: LifecycleOptions) => run(o, 'unlock');
