import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { askYesNo } from '../../src/ui/confirm.js';

const terminal = (isTTY: boolean) => {
  const input = Object.assign(new PassThrough(), { isTTY });
  const output = Object.assign(new PassThrough(), { isTTY });
  return { input, output };
};

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
      const asked = askYesNo('Overwrite? ', t);
      t.input.write(typed);
      expect(await asked, JSON.stringify(typed)).toBe(answer);
      expect(String(t.output.read())).toContain('Overwrite? ');
    }
  });

  it('asks nobody without a terminal: undefined, and nothing is read or written', async () => {
    const t = terminal(false);
    t.input.write('y\n');
    expect(await askYesNo('Overwrite? ', t)).toBeUndefined();
    expect(t.output.read()).toBeNull();
  });
});
