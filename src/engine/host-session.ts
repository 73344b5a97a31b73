import { configMask } from '../config/secrets.js';
import { randomUUID } from 'node:crypto';
import type { LoadedConfig } from '../config/load.js';
import type { DeployError } from '../definitions/errors.js';
import { connectHost } from '../remote/connect.js';
import type { Transport } from '../remote/transport.js';
import type { HostContext } from '../stages/types.js';
import { toDeployError } from '../definitions/errors.js';
import type { HostRunner } from './executor.js';
import { deployPaths } from '../layout/paths.js';
import { eachLimited } from '../source/pool.js';
import type { Reporter } from './reporter.js';
import { readRunInfo } from '../layout/run-info.js';
import { selectHosts, type SelectedHost } from './selector.js';

export interface SessionOptions {
  loaded: LoadedConfig;
  selector?: string | readonly string[];
  reporter: Reporter;
  signal?: AbortSignal;
  /** How the run names itself in the lock. */
  command: string;
  parallel?: number;
  env?: NodeJS.ProcessEnv;
  connect?: (alias: string, selected: SelectedHost) => Promise<Transport>;
}

export interface HostSession extends SelectedHost {
  runner: HostRunner;
  ctx: HostContext;
  error?: DeployError;
}

/**
 * Connects to every selected host for a lifecycle command (rollback, releases, unlock, lock
 * status), runs `fn`, and always closes the connections. A host that cannot be reached is
 * returned with its error rather than stopping the others.
 */
export async function withHostSessions<T>(
  o: SessionOptions,
  fn: (sessions: HostSession[]) => Promise<T>,
): Promise<T> {
  const env = o.env ?? process.env;
  const selected = selectHosts(o.loaded.config, o.selector);
  const run = readRunInfo(o.command, env);
  const lockToken = randomUUID();
  const mask = configMask(o.loaded, env);
  const connect =
    o.connect ??
    ((alias: string, s: SelectedHost) =>
      connectHost(alias, s.host, env, {
        config: o.loaded.config,
        log: (m) => o.reporter.log('warn', m, alias),
        mask,
      }));
  const transports: (Transport | undefined)[] = [];
  try {
    const results = await eachLimited(selected, o.parallel ?? o.loaded.config.parallel, async (s) =>
      connect(s.alias, s),
    );
    const sessions = selected.map((s, i): HostSession => {
      const r = results[i]!;
      const transport = r.status === 'fulfilled' ? r.value : undefined;
      transports.push(transport);
      return {
        ...s,
        runner: { alias: s.alias, transport: transport!, reporter: o.reporter, signal: o.signal },
        ctx: {
          alias: s.alias,
          host: s.host,
          config: o.loaded.config,
          paths: deployPaths(s.host.deploy_path),
          run,
          lockToken,
          mask,
        },
        error: r.status === 'rejected' ? toDeployError(r.reason, s.alias) : undefined,
      };
    });
    return await fn(sessions);
  } finally {
    await Promise.all(transports.map((t) => t?.close().catch(() => undefined)));
  }
}
