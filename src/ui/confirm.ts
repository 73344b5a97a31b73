import { createInterface } from 'node:readline/promises';

export interface Terminal {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Asks a yes/no question on the terminal; only `y` or `yes` is yes. Undefined when stdin or the
 * output is not a terminal: nobody is there to answer, and the caller must refuse rather than
 * guess (a pipe's empty line is not a "no" typed by a person either).
 */
export async function askYesNo(
  question: string,
  t: Terminal = { input: process.stdin, output: process.stderr },
): Promise<boolean | undefined> {
  if (!t.input.isTTY || !t.output.isTTY) return undefined;
  const rl = createInterface({ input: t.input, output: t.output });
  try {
    return /^\s*y(es)?\s*$/i.test(await rl.question(question));
  } finally {
    rl.close();
  }
}
