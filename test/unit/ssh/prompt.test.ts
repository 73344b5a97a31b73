import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { terminalPassphrasePrompt } from '../../../src/ssh/prompt.js';
import { rawControls } from '../../support/hostile.js';

/** A terminal as the prompt sees one: a TTY on both ends, raw mode switchable. */
function terminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true, isRaw: false, setRawMode: () => input });
  let shown = '';
  const output = Object.assign(new PassThrough(), { isTTY: true });
  output.on('data', (c: Buffer) => (shown += c.toString()));
  return { input, output, shown: () => shown };
}

describe('the passphrase prompt', () => {
  it('shows the key path from the config as text, never as an escape sequence', async () => {
    const t = terminal();
    const prompt = terminalPassphrasePrompt(t.input as never, t.output as never)!;
    const answer = prompt('/keys/\u001b]0;pwned\u0007id_ed25519');
    t.input.write('sesame\r');
    expect(await answer).toBe('sesame');
    expect(t.shown()).toContain("Enter passphrase for key '/keys/\\x1b]0;pwned\\x07id_ed25519': ");
    expect(rawControls(t.shown())).toEqual([]);
    expect(t.shown()).not.toContain('sesame');
  });
});
