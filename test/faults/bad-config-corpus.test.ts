import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { DeployError } from '../../src/definitions/errors.js';
import { formatError } from '../../src/ui/print-error.js';
import { recordScenario } from './support/reliability.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/bad-configs');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.yml'));

/** What the CLI prints for a config that fails to load: the same loader and formatter, no connection. */
function cliMessage(file: string): { exit: number; text: string } {
  try {
    loadConfig(file, {});
  } catch (e) {
    expect(e).toBeInstanceOf(DeployError);
    return { exit: (e as DeployError).exitCode, text: formatError(e) };
  }
  throw new Error(`${path.basename(file)} loaded without an error`);
}

describe('the named bad-config corpus', () => {
  // The row is written once every file has passed, whatever order the cases ran in.
  const passed = new Set<string>();
  afterAll(() => {
    if (passed.size !== files.length) return;
    recordScenario({
      group: 'bad input',
      how: 'in-process',
      scenario: 'named bad configs in test/fixtures/bad-configs',
      runs: files.length,
      result:
        'each: exit 2, its expected message with file:line:column, no connection (zod and the JSON Schema agree, see test/unit/ecosystem)',
      guarantee: 'A wrong deploy.yml is explained before anything is touched',
    });
  });

  it('has at least 30 configs, each with its expected message', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  it.each(files)('%s', (name) => {
    const file = path.join(DIR, name);
    const expected = /^# expect: (.+)$/m.exec(fs.readFileSync(file, 'utf8'))?.[1]?.trim();
    expect(expected, `${name} needs a \`# expect:\` line`).toBeTruthy();
    const { exit, text } = cliMessage(file);
    expect(exit).toBe(2);
    expect(text).toContain(expected);
    // Every problem points at a line and column of the file, and the hint says nothing was contacted.
    expect(text).toMatch(new RegExp(`${name.replace('.', '\\.')}:\\d+:\\d+: `));
    expect(text).toContain('no host was contacted');
    passed.add(name);
  });
});
