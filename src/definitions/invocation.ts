import { quote } from './shell-quote.js';

/** The configuration a bare `deploy` reads. */
export const DEFAULT_CONFIG_FILE = 'deploy.yml';

/**
 * `deploy …` as the user must type it to act on the same configuration: the literal text is
 * trusted, every `${value}` is shell-quoted, and ` -c <file>` follows `deploy` unless the file
 * is the default one. Written as a tagged template: deploy`unlock ${host}`.
 */
export type DeployCommand = (
  strings: TemplateStringsArray,
  ...values: readonly (string | number)[]
) => string;

/** The builder for commands that read `configFile` (as given to `-c`, relative to where it ran). */
export function deployCommandFor(configFile: string = DEFAULT_CONFIG_FILE): DeployCommand {
  const config = configFile === DEFAULT_CONFIG_FILE ? '' : ` -c ${quote(configFile)}`;
  return (strings, ...values) => {
    let args = strings[0] ?? '';
    values.forEach((v, i) => {
      args += (typeof v === 'number' ? String(v) : quote(v)) + (strings[i + 1] ?? '');
    });
    return `deploy${config}${args && !args.startsWith(' ') ? ' ' : ''}${args}`;
  };
}

/*
 * One process is one invocation: the CLI names its `-c` file here before any command runs, so
 * every hint and printed advice made afterwards, at whatever layer it is made (an EARTIFACT in
 * source/, an ECONNLOST in remote/), names the same file. A state of its own rather than a
 * parameter threaded through every layer to each place that may throw.
 */
let invoked = deployCommandFor();

/** Called once by the CLI with its `-c` value (the default when there is none). */
export function setInvokedConfigFile(configFile: string = DEFAULT_CONFIG_FILE): void {
  invoked = deployCommandFor(configFile);
}

/** `deploy …` for this run's configuration: the command a hint or a warning prints. */
export const deployCommand: DeployCommand = (strings, ...values) => invoked(strings, ...values);
