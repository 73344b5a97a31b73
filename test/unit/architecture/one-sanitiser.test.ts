import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

function sources(dir = SRC): { file: string; text: string }[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const abs = path.join(dir, d.name);
    if (d.isDirectory()) return sources(abs);
    return d.name.endsWith('.ts')
      ? [{ file: path.relative(SRC, abs), text: fs.readFileSync(abs, 'utf8') }]
      : [];
  });
}

/** Folders below ui/ (see layers.test.ts): they report through the engine's Reporter, not a stream. */
const BELOW_UI = [
  'engine',
  'stages',
  'layout',
  'persistence',
  'remote',
  'source',
  'ssh',
  'config',
  'definitions',
];

describe('one sanitiser', () => {
  const all = sources();

  it('only the sanitiser shows control characters itself: no copy of its steps elsewhere', () => {
    const users = all.filter((s) => /from '[^']*\/visible-text\.js'/.test(s.text)).map((s) => s.file);
    expect(users).toEqual([path.join('definitions', 'sanitise.ts')]);
  });

  it('below ui/, only the passphrase prompt writes to a terminal, and it is given the sanitiser', () => {
    const writers = all
      .filter((s) => BELOW_UI.includes(s.file.split(path.sep)[0]!))
      .filter((s) => /process\.(stdout|stderr)|console\./.test(s.text))
      .map((s) => s.file);
    expect(writers).toEqual([path.join('ssh', 'prompt.ts')]);
    const prompt = all.find((s) => s.file === path.join('ssh', 'prompt.ts'))!.text;
    expect(prompt).toMatch(/clean: Sanitiser/);
  });
});
