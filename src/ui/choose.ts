import type { Reporter } from '../engine/reporter.js';
import { AZURE, FoldingReporter, GITHUB, GITLAB } from './ci-folding.js';
import { ListrReporter } from './listr.js';
import { PlainReporter } from './plain.js';
import { ciProviderOf } from './sanitise.js';
import { atVerbosity, QuietReporter, verbosityOf } from './verbosity.js';

export interface OutputOptions {
  json?: boolean;
  /** How many -v. */
  verbose?: number | boolean;
  quiet?: boolean;
  env?: NodeJS.ProcessEnv;
  isTTY?: boolean;
  /** The terminal's width; a pty that reports 0 has none the tree could wrap to. */
  columns?: number;
}

/**
 * Spinners only for a person at a terminal that knows its width, at the default verbosity;
 * CI, pipes, -v and -vv get plain timestamped lines, -q only errors and the summary. What it
 * returns renders text as given: Output.reporter() puts the sanitiser in front of it.
 */
export function chooseReporter({
  json,
  env = process.env,
  isTTY = !!process.stdout.isTTY,
  columns = process.stdout.columns,
  ...o
}: OutputOptions): Reporter {
  // With --json stdout holds only the result; CI runners read workflow commands from stderr too.
  const write = json ? (l: string) => process.stderr.write(`${l}\n`) : undefined;
  const level = verbosityOf(o);
  if (level === 'quiet') return new QuietReporter(write);
  const ci = ciProviderOf(env);
  const shown = (r: Reporter) => atVerbosity(r, level);
  if (ci === 'github') return shown(new FoldingReporter(GITHUB, write));
  if (ci === 'gitlab') return shown(new FoldingReporter(GITLAB, write));
  if (ci === 'azure') return shown(new FoldingReporter(AZURE, write));
  if (json || !isTTY || env.CI || level > 0 || !columns) return shown(new PlainReporter(write));
  return shown(new ListrReporter());
}
