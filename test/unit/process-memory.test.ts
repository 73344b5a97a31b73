import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { V8_DEFAULTS, V8_SETTINGS } from '../../src/commands/process-memory.js';

/**
 * The deploy tunes V8 with flags that are V8's own, not Node's (see process-memory.ts). A Node
 * release that renames or drops one would leave the deploy silently without it: these fail then.
 */
const node = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ...env } });

/** Short-lived objects by the hundred thousand, as a deploy's file buffers are; prints new space's size. */
const CHURN = `
const v8 = require('node:v8');
if (process.env.FLAG) v8.setFlagsFromString(process.env.FLAG);
let keep = [];
for (let i = 0; i < 200000; i++) { keep.push({ a: i, b: 'x' + i, c: [i, i] }); if (keep.length > 20000) keep = []; }
console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
`;

describe('the V8 flags a deploy sets at run time', () => {
  it.each(Object.entries(V8_SETTINGS))('%s: %s is a flag this Node knows', (_, flag) => {
    // At start an unknown flag is fatal ("bad option"); at run time V8 only prints a line.
    expect(node([flag, '-e', '0'])).toMatchObject({ status: 0, stderr: '' });
    expect(node(['-e', `require('node:v8').setFlagsFromString(${JSON.stringify(flag)})`])).toMatchObject({
      status: 0,
      stderr: '',
    });
  });

  it('the young generation stays small under churn that grows it eightfold without the flag', () => {
    const size = (flag: string) => Number(node(['-e', CHURN], { FLAG: flag }).stdout.trim());
    const MB = 1 << 20;
    expect(size('')).toBeGreaterThanOrEqual(8 * MB);
    expect(size(V8_SETTINGS.young)).toBeLessThanOrEqual(4 * MB);
  });
});

describe('the V8 defaults the code cache is made under (startup/code-cache.ts)', () => {
  it.each(Object.entries(V8_DEFAULTS))('%s: %s is what this Node starts with', (_, flag) => {
    const name = flag.split('=')[0]!;
    const options = node(['--v8-options']).stdout;
    const at = options.indexOf(`  ${name} `);
    expect(at).toBeGreaterThan(-1);
    expect(options.slice(at, options.indexOf('\n', options.indexOf('\n', at) + 1))).toContain(
      `default: ${flag}`,
    );
  });
});
