import { AsyncLocalStorage } from 'node:async_hooks';
import { quote } from './shell-quote.js';

/** The configuration a bare `deploy` reads. */
export const DEFAULT_CONFIG_FILE = 'deploy.yml';

/**
 * `deploy …` as the user must type it to act on the same configuration: the literal text is
 * trusted, every `${value}` is shell-quoted, and ` -c <file>` follows `deploy` unless the file
 * is the default one, then the run's `-o key=value` overrides (a `hosts.web1.port=2222` given
 * to reach the server is needed again to unlock it), but for a notification URL (below). Written
 * as a tagged template: deploy`unlock ${host}`.
 */
export type DeployCommand = (
  strings: TemplateStringsArray,
  ...values: readonly (string | number)[]
) => string;

/**
 * An override a printed command leaves out: a chat or webhook URL is its password, masked in all
 * output when deploy.yml has it, and every hint would print it in full into a terminal or CI log.
 * The command works without it; it then notifies as deploy.yml says.
 */
const SECRET_OVERRIDE = /^notify(\.(webhook|slack|discord))?$/;
const isPrintable = (option: string): boolean =>
  !SECRET_OVERRIDE.test(option.slice(0, Math.max(option.indexOf('='), 0)).trim());

/** The builder for commands that read `configFile` (as given to `-c`, relative to where it ran) with `options` (`-o`). */
export function deployCommandFor(
  configFile: string = DEFAULT_CONFIG_FILE,
  options: readonly string[] = [],
): DeployCommand {
  const file = configFile === DEFAULT_CONFIG_FILE ? '' : ` -c ${quote(configFile)}`;
  const printed = options.filter(isPrintable);
  const config = `${file}${printed.map((o) => ` -o ${quote(o)}`).join('')}`;
  return (strings, ...values) => {
    let args = strings[0] ?? '';
    values.forEach((v, i) => {
      args += (typeof v === 'number' ? String(v) : quote(v)) + (strings[i + 1] ?? '');
    });
    return `deploy${config}${args && !args.startsWith(' ') ? ' ' : ''}${args}`;
  };
}

/*
 * One call is one invocation: the CLI names its `-c` file for its own call of main(), and a
 * library deploy() the file it was given, so that every hint and printed advice made within
 * the call, at whatever layer it is made (an EARTIFACT in source/, an ECONNLOST in remote/),
 * names that file. Scoped to the call (AsyncLocalStorage), not to the process: a process-wide
 * setting made one main() give a later deploy() of another deploy.yml its -c, and so a
 * `deploy -c <other> setup … --put` that would put a file on the other file's server.
 */
const current = new AsyncLocalStorage<{ command: DeployCommand; file?: string }>();
/** Outside any invocation (a unit test of a hint): what setInvokedConfigFile last set. */
let outside = deployCommandFor();

/**
 * Runs `run` as one invocation reading `configFile`; setInvokedConfigFile within it names another.
 * Within an invocation of the same file (the CLI's deploy calling deploy()), `run` stays in it, so
 * the hints keep the command line's `-o` overrides, which the file alone does not know.
 */
export function asInvocation<T>(run: () => T, configFile?: string): T {
  const within = current.getStore();
  if (within && configFile !== undefined && within.file === configFile) return run();
  return current.run({ command: deployCommandFor(configFile), file: configFile }, run);
}

/** Called by the CLI with its `-c` value (the default when there is none) and `-o` values, within its invocation. */
export function setInvokedConfigFile(
  configFile: string = DEFAULT_CONFIG_FILE,
  options: readonly string[] = [],
): void {
  const invocation = current.getStore();
  if (invocation)
    Object.assign(invocation, { command: deployCommandFor(configFile, options), file: configFile });
  else outside = deployCommandFor(configFile, options);
}

/** `deploy …` for this run's configuration: the command a hint or a warning prints. */
export const deployCommand: DeployCommand = (strings, ...values) =>
  (current.getStore()?.command ?? outside)(strings, ...values);
