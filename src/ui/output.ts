import type { Mask } from '../config/secrets.js';
import type { Reporter } from '../engine/reporter.js';
import { chooseReporter, type OutputOptions } from './choose.js';
import { openLogFile } from './log-file.js';
import { formatError } from './print-error.js';
import { ciProviderOf, createSanitiser, type Sanitiser } from './sanitise.js';
import { sanitisedReporter } from './sanitised-reporter.js';
import { tee } from './verbosity.js';

/**
 * Everything a command shows goes out through here, so the sanitiser (mask, visible control
 * characters, neutral CI syntax) stands in front of every stream, the log file's included.
 */
export interface Output {
  readonly sanitise: Sanitiser;
  /** Text on stdout; lines of ours may carry text from outside, so all of it is sanitised. */
  stdout(text: string): void;
  stderr(text: string): void;
  /** `warning: …` on stderr, unless -q. */
  warn(message: string): void;
  /** One JSON value on stdout: each string sanitised, then serialised, then masked once more. */
  json(value: unknown): void;
  /** An error (or a host's `{ code, message, hint }`) as a person reads it, on stderr; a bug's stack with -v. */
  error(e: unknown): void;
  /** The run's progress display; whatever the engine tells it passes the sanitiser first. */
  reporter(o: Omit<OutputOptions, 'env'>): Reporter;
}

export interface OutputSettings {
  mask?: Mask;
  env?: NodeJS.ProcessEnv;
  write?: { stdout(text: string): void; stderr(text: string): void };
  /** `--log <file>`: every line of the run appended there too, at -vv. */
  log?: string;
  /** -q: warn() says nothing. */
  quiet?: boolean;
  /** How many -v: from one on, error() prints a bug's stack (the log file always has it). */
  verbose?: number;
}

const processStreams = {
  stdout: (t: string) => void process.stdout.write(t),
  stderr: (t: string) => void process.stderr.write(t),
};

export function createOutput({
  mask,
  env = process.env,
  write = processStreams,
  log: logPath,
  quiet,
  verbose = 0,
}: OutputSettings = {}): Output {
  const sanitise = createSanitiser({ mask, ci: ciProviderOf(env) });
  const log = logPath === undefined ? undefined : openLogFile(logPath, mask);
  const stdout = (text: string) => {
    write.stdout(sanitise.text(text));
    log?.text(text);
  };
  const stderr = (text: string) => {
    write.stderr(sanitise.text(text));
    log?.text(text);
  };
  return {
    sanitise,
    stdout,
    stderr,
    warn: (message) => {
      if (quiet) log?.text(`warning: ${message}`);
      else stderr(`warning: ${message}\n`);
    },
    json: (value) => {
      const text = `${sanitise.mask(JSON.stringify(sanitise.value(value), null, 2))}\n`;
      write.stdout(text);
      log?.text(text);
    },
    error: (e) => {
      write.stderr(`${formatError(e, sanitise, { stack: verbose > 0 })}\n`);
      if (log) log.text(formatError(e, log.sanitise, { stack: true }));
    },
    reporter: (o) => {
      const shown = sanitisedReporter(chooseReporter({ ...o, env }), sanitise);
      return log ? tee(shown, log.reporter()) : shown;
    },
  };
}
