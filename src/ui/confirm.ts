import { createInterface } from 'node:readline/promises';
import type { Sanitiser } from './sanitise.js';

export interface Terminal {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Asks a yes/no question on the terminal; only `y` or `yes` is yes. Undefined when stdin or the
 * output is not a terminal: nobody is there to answer, and the caller must refuse rather than
 * guess (a pipe's empty line is not a "no" typed by a person either).
 *
 * The question carries config values (the application's name) and command text, so it goes to
 * the terminal through the sanitiser, as one field: readline writes it as is, and a newline in it
 * would make the prompt look like two questions.
 */
export async function askYesNo(
  question: string,
  clean: Sanitiser,
  t: Terminal = { input: process.stdin, output: process.stderr },
): Promise<boolean | undefined> {
  if (!t.input.isTTY || !t.output.isTTY) return undefined;
  const rl = createInterface({ input: t.input, output: t.output });
  try {
    return /^\s*y(es)?\s*$/i.test(await rl.question(clean.field(question)));
  } finally {
    rl.close();
  }
}
