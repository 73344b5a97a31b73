import { loadConfig, type LoadedConfig } from '../config/load.js';
import { sharedFileSecrets } from '../config/secrets.js';
import { createMask, type Mask } from '../ui/mask.js';

/** What every lifecycle subcommand takes from the command line. */
export interface LifecycleOptions {
  config: string;
  selector: string[];
  json?: boolean;
  verbose?: boolean;
  parallel?: number;
  signal?: AbortSignal;
}

export function loadMasked(o: LifecycleOptions): { loaded: LoadedConfig; mask: Mask } {
  const loaded = loadConfig(o.config);
  return { loaded, mask: createMask([...loaded.secrets, ...sharedFileSecrets(loaded.config)]) };
}

export const printJson = (mask: Mask, value: unknown): void =>
  void process.stdout.write(`${mask(JSON.stringify(value, null, 2))}\n`);
