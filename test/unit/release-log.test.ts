import { describe, expect, it } from 'vitest';
import { foldLog, nextReleaseName, parseLog, type ReleaseLogEntry } from '../../src/layout/release-log.js';
import { releasesToRemove } from '../../src/layout/retention.js';

describe('nextReleaseName', () => {
  it('formats UTC as YYYYMMDD-HHmmss', () => {
    expect(nextReleaseName(new Date('2026-03-04T05:06:07.890Z'), [])).toBe('20260304-050607');
  });

  it('never reuses a name: same second or a clock behind the newest release moves past it', () => {
    const now = new Date('2026-03-04T05:06:07Z');
    expect(nextReleaseName(now, ['20260304-050607'])).toBe('20260304-050608');
    expect(nextReleaseName(now, ['20270101-000000'])).toBe('20270101-000001');
    expect(nextReleaseName(now, ['20260304-050606', 'junk'])).toBe('20260304-050607');
  });
});

describe('release log', () => {
  it('folds to the last state of each release and counts bad lines', () => {
    const [a, b] = ['20260101-000001', '20260101-000002'];
    const text = [
      `{"name":"${a}","status":"started"}`,
      `{"name":"${a}","status":"success"}`,
      'not json',
      `{"name":"${b}","status":"started"}`,
      `{"name":"${a}","status":"rolled_back"}`,
      // Not release names: a line-based read must not make them into one.
      `{"name":"${a}\\n","status":"success"}`,
      '{"name":"..","status":"success"}',
    ].join('\n');
    const { entries, bad } = parseLog(text);
    expect(bad).toBe(3);
    const folded = foldLog(entries);
    expect([...folded.keys()]).toEqual([a, b]);
    expect(folded.get(a)?.status).toBe('rolled_back');
    expect(folded.get(b)?.status).toBe('started');
  });
});

describe('releasesToRemove', () => {
  const history = (pairs: [string, ReleaseLogEntry['status']][]) =>
    new Map(pairs.map(([name, status]) => [name, { name, status } as ReleaseLogEntry]));
  const names = [
    '20260101-000001',
    '20260101-000002',
    '20260101-000003',
    '20260101-000004',
    '20260101-000005',
  ];

  it('keeps the newest keep successes and what is protected', () => {
    const h = history(names.map((n) => [n, 'success']));
    expect(releasesToRemove({ releases: names, history: h, keep: 3, protect: [names[3]!] })).toEqual(
      names.slice(0, 2),
    );
    expect(releasesToRemove({ releases: names, history: h, keep: 2, protect: [names[0]!] })).toEqual(
      names.slice(1, 3),
    );
  });

  // duplicates: histories given as tables, one per retention rule; alike in shape only.
  it('failed releases do not count against keep, and five failures prune no success', () => {
    const h = history([
      [names[0]!, 'success'],
      [names[1]!, 'success'],
      [names[2]!, 'failed'],
      [names[3]!, 'failed'],
      [names[4]!, 'failed'],
    ]);
    expect(releasesToRemove({ releases: names, history: h, keep: 2, protect: [] })).toEqual([]);
  });

  it('removes failed and rolled-back releases older than the newest success, and abandoned ones', () => {
    const h = history([
      [names[0]!, 'failed'],
      [names[1]!, 'rolled_back'],
      [names[2]!, 'success'],
      [names[3]!, 'started'],
      [names[4]!, 'success'],
    ]);
    expect(releasesToRemove({ releases: names, history: h, keep: 5, protect: [names[4]!] })).toEqual([
      names[0],
      names[1],
      names[3],
    ]);
  });

  it('never touches directories that are not in the log or do not look like releases', () => {
    const h = history([[names[0]!, 'success']]);
    expect(releasesToRemove({ releases: [...names, 'backup'], history: h, keep: 1, protect: [] })).toEqual(
      [],
    );
  });
});
