import type { Mask } from '../config/secrets.js';
import type { Reporter } from '../engine/reporter.js';
import { chooseReporter, type OutputOptions } from './choose.js';
import { formatError } from './print-error.js';
import { ciProviderOf, createSanitiser, type Sanitiser } from './sanitise.js';
import { sanitisedReporter } from './sanitised-reporter.js';

/**
 * Everything a command shows goes out through here, so the sanitiser (mask, visible control
 * characters, neutral CI syntax) stands in front of every stream: the place for another sink,
 * such as a log file, is here too.
 */
export interface Output {
  readonly sanitise: Sanitiser;
  /** Text on stdout; lines of ours may carry text from outside, so all of it is sanitised. */
  stdout(text: string): void;
  stderr(text: string): void;
  /** One JSON value on stdout: each string sanitised, then serialised, then masked once more. */
  json(value: unknown): void;
  /** An error (or a host's `{ code, message, hint }`) as a person reads it, on stderr. */
  error(e: unknown): void;
  /** The run's progress display; whatever the engine tells it passes the sanitiser first. */
  reporter(o: Omit<OutputOptions, 'env'>): Reporter;
}

export interface OutputSettings {
  mask?: Mask;
  env?: NodeJS.ProcessEnv;
  write?: { stdout(text: string): void; stderr(text: string): void };
}

const processStreams = {
  stdout: (t: string) => void process.stdout.write(t),
  stderr: (t: string) => void process.stderr.write(t),
};

export function createOutput({
  mask,
  env = process.env,
  write = processStreams,
}: OutputSettings = {}): Output {
  const sanitise = createSanitiser({ mask, ci: ciProviderOf(env) });
  return {
    sanitise,
    stdout: (text) => write.stdout(sanitise.text(text)),
    stderr: (text) => write.stderr(sanitise.text(text)),
    json: (value) => write.stdout(`${sanitise.mask(JSON.stringify(sanitise.value(value), null, 2))}\n`),
    error: (e) => write.stderr(`${formatError(e, sanitise)}\n`),
    reporter: (o) => sanitisedReporter(chooseReporter({ ...o, env }), sanitise),
  };
}
