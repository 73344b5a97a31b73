import { isDeployError, toDeployError } from '../definitions/errors.js';
import { createMask } from '../config/secrets.js';
import { createOutput } from '../ui/output.js';
import { fallbackOutput, type CommonOptions } from './lifecycle-options.js';

/**
 * An error no command turned into output (a local build's stderr, a refused connection, a bad
 * configuration): printed once, through the same sanitiser as any output, and turned into the
 * exit code. Anything else than a DeployError is a bug (EINTERNAL): with -v its stack is printed too.
 */
export function reportUncaught(
  e: unknown,
  options: string | Partial<CommonOptions> | undefined,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const o = typeof options === 'string' ? { config: options } : options;
  // A configuration that did not load is not read a second time (a pathological file costs
  // twice, and once was enough to crash on); its errors never quote environment values.
  const configFailed = isDeployError(e) && (e.code === 'ECONFIG' || e.code === 'ENOCONFIG');
  const out = configFailed ? createOutput({ mask: createMask([], env), env }) : fallbackOutput(o, env);
  const error = toDeployError(e);
  out.error(error);
  return error.exitCode;
}
