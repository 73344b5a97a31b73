import { loadConfig } from '../config/load.js';
import { sharedFileSecrets } from '../config/secrets.js';
import { DeployError, isDeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { toDeployError } from '../engine/deploy.js';
import { runStages } from '../engine/executor.js';
import { deployPaths } from '../engine/paths.js';
import { eachLimited } from '../engine/pool.js';
import { MemoryReporter } from '../engine/reporter.js';
import { readRunInfo } from '../engine/run-info.js';
import { selectHosts } from '../engine/selector.js';
import { connectHost } from '../remote/connect.js';
import type { Transport } from '../remote/transport.js';
import { runInCurrent } from '../stages/run-command.js';
import { createMask } from '../config/secrets.js';
import { formatError } from '../ui/print-error.js';

export interface RunCommandOptions {
  config: string;
  selector: string;
  /** Words after `--`, joined with spaces as ssh joins them. */
  command: string[];
  parallel?: number;
  env?: NodeJS.ProcessEnv;
}

interface HostResult {
  alias: string;
  stdout: string;
  stderr: string;
  error?: DeployError;
}

/**
 * `deploy run <selector> -- <command>`: the command in `current` on every selected host, one
 * exec each. Output is printed per host once it finished, every line prefixed `[alias]`, so
 * hosts never interleave; the exit code is the worst of the hosts' (1 a command failed, 5 a host
 * could not be reached).
 */
export async function runCommand(o: RunCommandOptions): Promise<number> {
  const env = o.env ?? process.env;
  const loaded = loadConfig(o.config, env);
  const { config } = loaded;
  const mask = createMask([...loaded.secrets, ...sharedFileSecrets(config)], env);
  const command = o.command.join(' ').trim();
  if (!command)
    throw new DeployError('EUSAGE', { reason: 'no command given: deploy run <selector> -- <command>' });
  const hosts = selectHosts(config, o.selector);
  const run = readRunInfo(`deploy run ${o.selector}`, env);
  const quiet = new MemoryReporter();

  const results = await eachLimited(hosts, o.parallel ?? 10, async ({ alias, host }): Promise<HostResult> => {
    let transport: Transport | undefined;
    try {
      transport = await connectHost(alias, host, env, {
        config,
        log: (m) => process.stderr.write(`${mask(`[${alias}] warning: ${m}`)}\n`),
      });
      const ctx = { alias, host, config, paths: deployPaths(host.deploy_path), run, lockToken: '' };
      const out = await runStages({ alias, transport, reporter: quiet }, [runInCurrent(command)], ctx, {
        quiet: true,
      });
      return { alias, stdout: out.stdout, stderr: '' };
    } catch (e) {
      const error = isDeployError(e) ? e : toDeployError(e, alias);
      const d = error.details;
      return { alias, stdout: String(d.stdout ?? ''), stderr: String(d.stderr ?? ''), error };
    } finally {
      await transport?.close().catch(() => undefined);
    }
  });

  let exit: number = EXIT.ok;
  for (const r of results) {
    if (r.status !== 'fulfilled') continue;
    const { alias, stdout, stderr, error } = r.value;
    process.stdout.write(prefixed(alias, mask(stdout)));
    process.stderr.write(prefixed(alias, mask(stderr)));
    if (error) {
      process.stderr.write(prefixed(alias, formatError(error, mask)));
      exit = Math.max(exit, error.exitCode);
    }
  }
  return exit;
}

function prefixed(alias: string, text: string): string {
  const trimmed = text.replace(/\s+$/, '');
  if (trimmed === '') return '';
  return trimmed
    .split('\n')
    .map((l) => `[${alias}] ${l}\n`)
    .join('');
}
