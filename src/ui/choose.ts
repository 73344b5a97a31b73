import type { Reporter } from '../engine/reporter.js';
import { FoldingReporter, GITHUB, GITLAB } from './ci-folding.js';
import { ListrReporter } from './listr.js';
import { PlainReporter } from './plain.js';
import { ciProviderOf } from './sanitise.js';

export interface OutputOptions {
  json?: boolean;
  verbose?: boolean;
  env?: NodeJS.ProcessEnv;
  isTTY?: boolean;
}

/**
 * Spinners only for a person at a terminal; CI and pipes get plain timestamped lines. What it
 * returns renders text as given: Output.reporter() puts the sanitiser in front of it.
 */
export function chooseReporter({
  json,
  env = process.env,
  isTTY = !!process.stdout.isTTY,
}: OutputOptions): Reporter {
  // With --json stdout holds only the result; CI runners read workflow commands from stderr too.
  const write = json ? (l: string) => process.stderr.write(`${l}\n`) : undefined;
  const ci = ciProviderOf(env);
  if (ci === 'github') return new FoldingReporter(GITHUB, write);
  if (ci === 'gitlab') return new FoldingReporter(GITLAB, write);
  if (json) return new PlainReporter(write);
  if (!isTTY || env.CI) return new PlainReporter();
  return new ListrReporter();
}
