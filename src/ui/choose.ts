import type { Reporter } from '../engine/reporter.js';
import { ListrReporter } from './listr.js';
import { PlainReporter } from './plain.js';

export interface OutputOptions {
  json?: boolean;
  verbose?: boolean;
  env?: NodeJS.ProcessEnv;
  isTTY?: boolean;
}

/** Spinners only for a person at a terminal; CI and pipes get plain timestamped lines. */
export function chooseReporter({
  json,
  env = process.env,
  isTTY = !!process.stdout.isTTY,
}: OutputOptions): Reporter {
  if (json) return new PlainReporter((l) => process.stderr.write(`${l}\n`));
  if (!isTTY || env.CI) return new PlainReporter();
  return new ListrReporter();
}
