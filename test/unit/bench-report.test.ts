import { describe, expect, it } from 'vitest';
import { renderReport, type ReportInput, type Row } from '../../bench/report.js';
import { pairedRatio, summary } from '../../bench/stats.js';

const row = (id: string, ms: number, execs?: number): Row => ({
  id,
  label: id,
  ...summary([{ ms, execs, rssKiB: 100 * 1024 }]),
});

/** One run's measurements, as bench/run.ts hands them over; `over` changes what a test needs. */
const input = (over: Partial<ReportInput> = {}): ReportInput => ({
  date: '2026-12-01',
  server: 'openssh',
  cores: 2,
  cpu: 'test cpu',
  node: 'v20.0.0',
  tree: { files: 10, bytes: 1000, dirs: 3, symlinks: 0 },
  seed: 1,
  runs: 1,
  rows: [
    row('tar', 1000),
    row('rsync', 1000),
    row('first', 1000, 5),
    row('changed', 500, 5),
    row('young', 500, 5),
    row('unchanged', 400, 5),
    row('rollback', 90, 2),
  ],
  rollback: true,
  profile: { scanMs: 1, hashMs: 1, packMs: 1, remoteCpAlMs: 200, remoteMkdirMs: 50, releaseDirs: 3 },
  multi: [
    { hosts: 1, files: 10, parallel: 1, sshds: 1, connections: 1, ...pair(1000, 500) },
    { hosts: 20, files: 10, parallel: 20, sshds: 4, connections: 20, ...pair(9000, 1000) },
  ],
  ...over,
});

function pair(first: number, changed: number) {
  return { first: summary([{ ms: first, execs: 5 }]), changed: summary([{ ms: changed, execs: 5 }]) };
}

describe('BENCHMARKS.md from bench/report.ts', () => {
  it('names the server the run really deployed to', () => {
    expect(renderReport(input())).toContain('Node v20.0.0, a private OpenSSH sshd on 127.0.0.1');
    const fallback = renderReport(input({ server: 'ssh2' }));
    expect(fallback).not.toContain('OpenSSH sshd on');
    expect(fallback).toContain("the test harness's in-process ssh2 server (OpenSSH's sshd was not installed");
  });

  it('gives a verdict only from the numbers: the same target is met or missed as they say', () => {
    expect(renderReport(input())).toContain('| rollback ≤ 0.1 × first deploy | 0.09 | met |');
    const slow = input();
    slow.rows = slow.rows.map((r) => (r.id === 'rollback' ? row('rollback', 150, 2) : r));
    expect(renderReport(slow)).toContain('| rollback ≤ 0.1 × first deploy | 0.15 | **missed** |');
  });

  it('explains no result with a cause the run did not measure', () => {
    const text = renderReport(input());
    expect(text).toContain('First deploy: 9.00 × — **missed**.');
    expect(text).toContain('took 0.05 s (25 % of it)');
    for (const claim of ['measured by hand', 'rsync pays', 'real hosts would', 'is what costs'])
      expect(text).not.toContain(claim);
  });
});

describe('ratios in BENCHMARKS.md', () => {
  const rows = (unchanged: number[], changed: number[]): Row[] =>
    input().rows.map((r) =>
      r.id === 'unchanged'
        ? { id: r.id, label: r.id, ...summary(unchanged.map((ms) => ({ ms, execs: 5 }))) }
        : r.id === 'changed'
          ? { id: r.id, label: r.id, ...summary(changed.map((ms) => ({ ms, execs: 5 }))) }
          : // Every row of a run has a sample per round.
            { id: r.id, label: r.id, ...summary(changed.map(() => ({ ms: r.median, execs: 5 }))) },
    );

  it('are taken round by round: a slow round slows both of its runs and moves no ratio', () => {
    // Rounds 2 and 3 ran on a slower VM; the ratio of the medians (1200 / 600) would read 2.00.
    const text = renderReport(input({ runs: 3, rows: rows([400, 1200, 1200], [500, 1500, 600]) }));
    expect(text).toContain('| no-change ≤ 10-changed | 0.80 (0.80–2.00) | met |');
  });

  it('judge the median of the rounds, not the best one', () => {
    const text = renderReport(input({ runs: 3, rows: rows([450, 460, 300], [500, 500, 500]) }));
    expect(text).toContain('| no-change ≤ 10-changed | 0.90 (0.60–0.92) | met |');
    const over = renderReport(input({ runs: 3, rows: rows([550, 560, 300], [500, 500, 500]) }));
    expect(over).toContain('| no-change ≤ 10-changed | 1.10 (0.60–1.12) | **missed** |');
  });
});

describe('pairedRatio', () => {
  it('refuses rows that did not run in the same rounds, and has nothing to say for a row not measured', () => {
    expect(pairedRatio([2, 4], [1, 2])).toEqual({ median: 2, min: 2, max: 2, pairs: 2 });
    expect(() => pairedRatio([2, 4, 6], [1, 2])).toThrow('cannot pair 3 runs with 2');
    expect(pairedRatio([], [1, 2]).pairs).toBe(0);
  });
});
