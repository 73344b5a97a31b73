import { isDeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { createMask } from '../config/secrets.js';
import { createOutput } from '../ui/output.js';
import { fallbackOutput } from './lifecycle-options.js';

/**
 * An error no command turned into output (a local build's stderr, a refused connection, a bad
 * configuration): printed once, through the same sanitiser as any output, and turned into the
 * exit code.
 */
export function reportUncaught(
  e: unknown,
  configFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): number {
  // A configuration that did not load is not read a second time (a pathological file costs
  // twice, and once was enough to crash on); its errors never quote environment values.
  const configFailed = isDeployError(e) && (e.code === 'ECONFIG' || e.code === 'ENOCONFIG');
  const out = configFailed
    ? createOutput({ mask: createMask([], env), env })
    : fallbackOutput(configFile, env);
  out.error(e);
  return isDeployError(e) ? e.exitCode : EXIT.failed;
}
