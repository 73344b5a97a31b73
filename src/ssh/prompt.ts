import { createSanitiser, type Sanitiser } from '../definitions/sanitise.js';
import type { PassphrasePrompt } from './auth.js';

let queue: Promise<unknown> = Promise.resolve();

/**
 * Asks for a key passphrase on the terminal without echoing it, like ssh does. Hosts connect in
 * parallel, so questions are asked one after another; without a terminal on both stdin and
 * stderr nobody could answer, and the key is skipped instead of hanging the deploy.
 */
export function terminalPassphrasePrompt(
  clean: Sanitiser = createSanitiser(),
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): PassphrasePrompt | undefined {
  if (!input.isTTY || !output.isTTY) return undefined;
  return (label) => {
    // The label is a path from deploy.yml or the ssh config, a value that may hold a secret:
    // masked, and shown, never obeyed, by the terminal.
    const asked = queue.then(() => ask(input, output, `Enter passphrase for key '${clean.field(label)}': `));
    queue = asked.catch(() => undefined);
    return asked;
  };
}

function ask(
  input: NodeJS.ReadStream,
  output: NodeJS.WriteStream,
  question: string,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    let typed = '';
    const wasRaw = input.isRaw;
    // Echo off before the question appears, or a quick answer would be echoed by the terminal.
    input.setRawMode(true);
    input.resume();
    output.write(question);
    const finish = (value: string | undefined) => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(typed);
        // Ctrl-C or Ctrl-D: no passphrase, the key is skipped.
        if (ch === '\u0003' || ch === '\u0004') return finish(undefined);
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    input.on('data', onData);
  });
}
