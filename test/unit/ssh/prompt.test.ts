import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createMask } from '../../../src/config/secrets.js';
import { createSanitiser } from '../../../src/definitions/sanitise.js';
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
    const prompt = terminalPassphrasePrompt(undefined, t.input as never, t.output as never)!;
    const answer = prompt('/keys/\u001b]0;pwned\u0007id_ed25519');
    t.input.write('sesame\r');
    expect(await answer).toBe('sesame');
    expect(t.shown()).toContain("Enter passphrase for key '/keys/\\x1b]0;pwned\\x07id_ed25519': ");
    expect(rawControls(t.shown())).toEqual([]);
    expect(t.shown()).not.toContain('sesame');
  });

  it('masks a secret in the key path before it shows it, as the sanitiser does', async () => {
    const t = terminal();
    const clean = createSanitiser({ mask: createMask(['hunter2-secret-value'], {}) });
    const prompt = terminalPassphrasePrompt(clean, t.input as never, t.output as never)!;
    const answer = prompt('/keys/hunter2-secret-value/\u001b[2Jid_ed25519');
    t.input.write('\r');
    await answer;
    expect(t.shown()).toContain("Enter passphrase for key '/keys/***/\\x1b[2Jid_ed25519': ");
  });
});
