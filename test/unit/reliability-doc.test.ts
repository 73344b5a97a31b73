import { describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../faults/support/reliability.js';
import { renderReliability, rowLine, staleness } from '../faults/support/reliability-doc.js';

const row = (over: Partial<ScenarioResult>): ScenarioResult => ({
  group: 'connection cuts',
  scenario: 'deploy cut in `lock`',
  how: 'sshd',
  runs: 1,
  result: 'exit 5 naming `lock`',
  guarantee: 'A dropped link changes nothing live',
  file: 'test/faults/connection-cuts.test.ts',
  ...over,
});

const cut = row({});
const fuzz = row({
  group: 'bad input',
  scenario: 'fast-check: random text',
  how: 'in-process',
  runs: 300,
  result: 'each: ECONFIG | never an exception',
  file: 'test/faults/config-fuzz.test.ts',
});
const nasty = row({ group: 'bad input', scenario: 'nasty files', how: 'cli', runs: 7 });

describe('docs/reliability.md', () => {
  it('separates runs over sshd, of the CLI alone and in process, in the table and the totals', () => {
    const doc = renderReliability([fuzz, cut, nasty]);
    expect(doc).toContain(
      '| connection cuts | deploy cut in `lock` | CLI over sshd | 1 | exit 5 naming `lock` |',
    );
    expect(doc).toContain(
      '| bad input | fast-check: random text | in process | 300 | each: ECONFIG \\| never',
    );
    expect(doc).toContain('| bad input | nasty files | CLI, no connection | 7 |');
    expect(doc).toContain(
      '\n3 scenarios. CLI over sshd: 1 scenario, 1 run; CLI, no connection: 1 scenario, 7 runs; in process: 1 scenario, 300 runs.\n',
    );
    // Groups in their fixed order, whatever order the rows arrived in.
    expect(doc.indexOf('connection cuts |')).toBeLessThan(doc.indexOf('| bad input |'));
  });

  it('is fresh when a complete run renders it exactly, whatever order the rows came in', () => {
    expect(staleness(renderReliability([cut, fuzz]), [fuzz, cut], true)).toEqual([]);
  });

  it('is stale when a row that ran says something else than the file, with the same name and count', () => {
    const doc = renderReliability([cut, fuzz]);
    const changed = { ...cut, result: 'exit 5 naming `lock`; lock free' };
    for (const complete of [true, false]) {
      const problems = staleness(doc, [changed, fuzz], complete);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(rowLine(cut));
      expect(problems[0]).toContain(rowLine(changed));
    }
    expect(staleness(doc, [{ ...fuzz, how: 'sshd' }, cut], true)).toHaveLength(2); // its row and the totals
  });

  it('in a complete run, a row no longer run is stale; in a partial run it is not judged', () => {
    const doc = renderReliability([cut, fuzz]);
    expect(staleness(doc, [cut], true).join('\n')).toContain(rowLine(fuzz));
    expect(staleness(doc, [cut], false)).toEqual([]);
  });
});
