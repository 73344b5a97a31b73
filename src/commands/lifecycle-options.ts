import { loadConfig, type LoadedConfig } from '../config/load.js';
import { parseOverrides } from '../config/overrides.js';
import { configMask, createMask, type Mask } from '../config/secrets.js';
import type { Config } from '../config/schema.js';
import { DeployError, type ShownError } from '../definitions/errors.js';
import { createOutput, type Output } from '../ui/output.js';

/** The global options every command takes (see cli.ts). */
export interface CommonOptions {
  config: string;
  /** `-o key=value`, repeatable. */
  option?: string[];
  json?: boolean;
  /** How many -v. */
  verbose?: number;
  quiet?: boolean;
  /** `--log <file>`. */
  log?: string;
  /** `--yes`: the confirmation of a `confirm: true` host is given. */
  yes?: boolean;
}

/** What every lifecycle subcommand takes from the command line. */
export interface LifecycleOptions extends CommonOptions {
  selector: string[];
  parallel?: number;
  signal?: AbortSignal;
}

/**
 * The configuration with its `-o` overrides, and the output that hides everything it makes
 * secret (writing the log file too, with --log). The configuration's warnings are printed here,
 * once, whatever the command.
 */
export function loadForOutput(
  o: CommonOptions,
  env: NodeJS.ProcessEnv = process.env,
): { loaded: LoadedConfig; out: Output } {
  const loaded = loadConfig(o.config, env, parseOverrides(o.option ?? []));
  const out = createOutput({
    mask: configMask(loaded, env),
    env,
    log: o.log,
    quiet: o.quiet,
    verbose: o.verbose,
  });
  for (const note of loaded.notes) out.warn(`${loaded.file}: ${note}`);
  return { loaded, out };
}

/**
 * For an error that escaped a command: the same mask when the configuration still loads, else
 * the environment's own secrets (the SSH key and passphrase).
 */
export function fallbackOutput(
  o: Partial<CommonOptions> | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Output {
  let mask: Mask;
  try {
    mask = configMask(loadConfig(o?.config ?? 'deploy.yml', env, parseOverrides(o?.option ?? [])), env);
  } catch {
    mask = createMask([], env);
  }
  const verbose = o?.verbose;
  try {
    return createOutput({ mask, env, log: o?.log, verbose });
  } catch {
    // The log file cannot be opened: the error at hand is still printed.
    return createOutput({ mask, env, verbose });
  }
}

/** What every engine entry point takes from a subcommand's options: which hosts, how many at once. */
export const hostOptions = (o: LifecycleOptions, loaded: LoadedConfig) => ({
  loaded,
  selector: o.selector,
  signal: o.signal,
  parallel: o.parallel,
});

/** An error as JSON output carries it: code, message and hint (a bug's stack is for -v and the log). */
export const errorJson = (e: ShownError | undefined) =>
  e && { code: e.code, message: e.message, hint: e.hint };

/** Hosts' results as JSON output carries them. */
export const hostsJson = <H extends { error?: ShownError }>(hosts: readonly H[]) =>
  hosts.map((h) => ({ ...h, error: errorJson(h.error) }));

/**
 * `--revision`, `--artifact`, `--require-clean` and `--[no-]skip-unchanged` win over deploy.yml's
 * `revision:`, `artifact:`, `require_clean:` and `skip_unchanged:`. An artifact records its own
 * revision, so it wins over any revision; both on the command line is a usage error (exit 2).
 */
export function applySourceFlags(
  config: Config,
  o: { revision?: string; artifact?: string; requireClean?: boolean; skipUnchanged?: boolean },
): void {
  if (o.revision !== undefined && o.artifact !== undefined) {
    throw new DeployError('EUSAGE', {
      reason: '--artifact and --revision name two different things to deploy; give one',
    });
  }
  if (o.revision !== undefined) {
    config.revision = o.revision;
    config.artifact = undefined;
  }
  if (o.artifact !== undefined) config.artifact = o.artifact;
  if (config.artifact) config.revision = undefined;
  if (o.requireClean) config.require_clean = true;
  if (o.skipUnchanged !== undefined) config.skip_unchanged = o.skipUnchanged;
}

/**
 * Every failing host's error, then the run's own (the worst, or an interrupt) last, where a
 * person looks first: with several hosts failing for different reasons, each reason is shown.
 * An error shared by several hosts (a local build that failed for all) is shown once.
 */
export function printErrors(
  out: Output,
  run: ShownError | undefined,
  hosts: readonly (ShownError | undefined)[],
): void {
  const key = (e: ShownError) => `${e.code}\0${e.message}`;
  const seen = new Set(run ? [key(run)] : []);
  for (const e of hosts) {
    if (!e || seen.has(key(e))) continue;
    seen.add(key(e));
    out.error(e);
  }
  if (run) out.error(run);
}
