import { loadConfig, type LoadedConfig } from '../config/load.js';
import { createMask, maskValue, sharedFileSecrets, type Mask } from '../config/secrets.js';
import type { Config } from '../config/schema.js';
import type { DeployError } from '../definitions/errors.js';

/** What every lifecycle subcommand takes from the command line. */
export interface LifecycleOptions {
  config: string;
  selector: string[];
  json?: boolean;
  verbose?: boolean;
  parallel?: number;
  signal?: AbortSignal;
}

/** The configuration and a mask for everything it makes secret: `${VAR}` values and shared files. */
export function loadMasked(
  o: { config: string },
  env: NodeJS.ProcessEnv = process.env,
): { loaded: LoadedConfig; mask: Mask } {
  const loaded = loadConfig(o.config, env);
  return { loaded, mask: createMask([...loaded.secrets, ...sharedFileSecrets(loaded.config)], env) };
}

/**
 * For an error that escaped a command: the same mask when the configuration still loads, else
 * the environment's own secrets (the SSH key and passphrase).
 */
export function fallbackMask(configFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Mask {
  try {
    return loadMasked({ config: configFile ?? 'deploy.yml' }, env).mask;
  } catch {
    return createMask([], env);
  }
}

/** An error as JSON output carries it. */
export const errorJson = (e: DeployError | undefined) =>
  e && { code: e.code, message: e.message, hint: e.hint };

/** Values are masked before JSON escapes them, and the text again after, for secrets split across values. */
export const printJson = (mask: Mask, value: unknown): void =>
  void process.stdout.write(`${mask(JSON.stringify(maskValue(mask, value), null, 2))}\n`);

/** `--revision` and `--require-clean` win over deploy.yml's `revision:` and `require_clean:`. */
export function applySourceFlags(config: Config, o: { revision?: string; requireClean?: boolean }): void {
  if (o.revision !== undefined) config.revision = o.revision;
  if (o.requireClean) config.require_clean = true;
}
