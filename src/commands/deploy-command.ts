import { loadConfig } from '../config/load.js';
import { sharedFileSecrets } from '../config/secrets.js';
import { rollout } from '../engine/rollout.js';
import { dryRunCommand } from './dry-run.js';
import { chooseReporter } from '../ui/choose.js';
import { createMask, maskReporter } from '../ui/mask.js';
import { formatError } from '../ui/print-error.js';

export interface DeployCommandOptions {
  config: string;
  selector: string[];
  verbose?: boolean;
  json?: boolean;
  parallel?: number;
  limit?: number;
  /** false with `--no-atomic`: each host switches when it is ready. */
  atomic?: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
}

export async function deployCommand(o: DeployCommandOptions): Promise<number> {
  if (o.dryRun) return dryRunCommand(o);
  const loaded = loadConfig(o.config);
  const mask = createMask([...loaded.secrets, ...sharedFileSecrets(loaded.config)]);
  const reporter = maskReporter(chooseReporter(o), mask);
  const result = await rollout({
    loaded,
    selector: o.selector,
    reporter,
    signal: o.signal,
    parallel: o.parallel,
    limit: o.limit,
    atomic: o.atomic,
    command: ['deploy', ...o.selector].join(' '),
  });
  if (o.json) {
    process.stdout.write(
      mask(
        JSON.stringify(
          { release: result.release, exitCode: result.exitCode, hosts: result.outcomes },
          null,
          2,
        ),
      ) + '\n',
    );
  }
  if (result.error) process.stderr.write(`${formatError(result.error, mask)}\n`);
  return result.exitCode;
}
