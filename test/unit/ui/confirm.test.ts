import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createMask } from '../../../src/config/secrets.js';
import { askYesNo } from '../../../src/ui/confirm.js';
import { createSanitiser } from '../../../src/ui/sanitise.js';

const terminal = (isTTY: boolean) => {
  const input = Object.assign(new PassThrough(), { isTTY });
  const output = Object.assign(new PassThrough(), { isTTY });
  return { input, output };
};

const clean = createSanitiser();

describe('askYesNo', () => {
  it('only y or yes is yes', async () => {
    for (const [typed, answer] of [
      ['y\n', true],
      ['YES\n', true],
      ['\n', false],
      ['n\n', false],
      ['yep\n', false],
    ] as const) {
      const t = terminal(true);
      const asked = askYesNo('Overwrite? ', clean, t);
      t.input.write(typed);
      expect(await asked, JSON.stringify(typed)).toBe(answer);
      expect(String(t.output.read())).toContain('Overwrite? ');
    }
  });

  it('asks nobody without a terminal: undefined, and nothing is read or written', async () => {
    const t = terminal(false);
    t.input.write('y\n');
    expect(await askYesNo('Overwrite? ', clean, t)).toBeUndefined();
    expect(t.output.read()).toBeNull();
  });

  it('shows the question through the sanitiser: secrets masked, escape sequences and newlines as text', async () => {
    const secret = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
    const t = terminal(true);
    // An application named with a window-title sequence, and a `deploy run` command holding a secret.
    const question = `Run \`echo ${secret}\` (demo\u001b]0;PWNED\u0007\ninjected) on web? [y/N] `;
    const asked = askYesNo(question, createSanitiser({ mask: createMask([secret], {}) }), t);
    t.input.write('n\n');
    expect(await asked).toBe(false);
    const shown = String(t.output.read());
    expect(shown).toContain('Run `echo ***` (demo\\x1b]0;PWNED\\x07\\x0ainjected) on web? [y/N] ');
    expect(shown).not.toContain(secret);
    // readline's own cursor sequences may follow; the question's may not.
    expect(shown).not.toContain('\u001b]0;PWNED');
    expect(shown).not.toContain('\u0007');
  });
});
