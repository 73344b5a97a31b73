import { isDeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { formatError } from '../ui/print-error.js';
import { fallbackMask } from './lifecycle-options.js';

/**
 * An error no command turned into output (a local build's stderr, a refused connection, a bad
 * configuration): printed once, masked like any output, and turned into the exit code.
 */
export function reportUncaught(
  e: unknown,
  configFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): number {
  process.stderr.write(`${formatError(e, fallbackMask(configFile, env))}\n`);
  return isDeployError(e) ? e.exitCode : EXIT.failed;
}
