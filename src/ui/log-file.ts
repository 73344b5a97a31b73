import fs from 'node:fs';
import type { Mask } from '../config/secrets.js';
import { DeployError } from '../definitions/errors.js';
import type { Reporter } from '../engine/reporter.js';
import { PlainReporter } from './plain.js';
import { createSanitiser, type Sanitiser } from './sanitise.js';
import { sanitisedReporter } from './sanitised-reporter.js';

/**
 * `--log <file>`: the whole transcript of a run, whatever the verbosity (every stage, hook line,
 * command and script, every message and error), one timestamped line each, appended. Through
 * the same sanitiser as the terminal (secrets masked, control characters shown), but without a
 * CI's syntax rewritten: a file is read by no runner. Written synchronously, so a run that ends
 * abruptly loses no line; created 0600, since what apps print is not always masked.
 */
export interface LogFile {
  readonly sanitise: Sanitiser;
  /** Text as a command printed it (any number of lines), each line timestamped. */
  text(text: string): void;
  /** The run's events, at the verbosity of -vv. */
  reporter(): Reporter;
}

const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const STAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /;

export function openLogFile(file: string, mask?: Mask): LogFile {
  let fd: number;
  try {
    fd = fs.openSync(file, 'a', 0o600);
  } catch (e) {
    throw new DeployError('EUSAGE', {
      reason: `--log ${file}: cannot open it for writing (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    });
  }
  const sanitise = createSanitiser({ mask });
  const raw = (line: string) => fs.writeSync(fd, `${line}\n`);
  raw(`${stamp()} === shipshape, pid ${process.pid}`);
  return {
    sanitise,
    text: (text) => {
      const lines = sanitise.text(text).replace(/\n+$/, '').split('\n');
      for (const l of lines) if (l !== '') raw(`${stamp()} ${l}`);
    },
    // The plain renderer stamps its lines; its summary table is stamped here, like every line.
    reporter: () =>
      sanitisedReporter(new PlainReporter((l) => raw(STAMPED.test(l) ? l : `${stamp()} ${l}`)), sanitise),
  };
}
