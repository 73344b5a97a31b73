import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { deploy } from '../../../src/engine/deploy.js';
import { MemoryReporter, type TransferProgress } from '../../../src/engine/reporter.js';
import { PlainReporter } from '../../../src/ui/plain.js';
import { formatBytes, formatProgress } from '../../../src/ui/progress.js';

const p = (files: number, bytes: number): TransferProgress => ({
  files,
  bytes,
  totalFiles: 10,
  totalBytes: 10_000_000,
});

describe('formatProgress', () => {
  it('shows files, bytes, rate and ETA', () => {
    expect(formatProgress(p(3, 2_500_000), 2000)).toBe('3/10 files, 2.5 MB of 10 MB, 1.3 MB/s, ETA 6s');
  });

  it('leaves out rate and ETA before there is anything to measure', () => {
    expect(formatProgress(p(0, 0), 0)).toBe('0/10 files, 0 B of 10 MB');
  });

  it('formats sizes', () => {
    expect([formatBytes(999), formatBytes(1500), formatBytes(42_000_000_000)]).toEqual([
      '999 B',
      '1.5 KB',
      '42 GB',
    ]);
  });
});

describe('PlainReporter progress', () => {
  it('writes a line every few seconds of the stage, not one per file', () => {
    let t = 0;
    const lines: string[] = [];
    const r = new PlainReporter(
      (l) => lines.push(l),
      5000,
      () => t,
    );
    r.begin(['web'], [{ id: 'upload', title: 'Upload the code' }]);
    r.stage('web', 'upload', 'start');
    const shown = () => lines.filter((l) => l.includes('files,')).length;
    for (const [at, expected] of [
      [1000, 0],
      [4999, 0],
      [5000, 1],
      [6000, 1],
      [10_000, 2],
    ] as const) {
      t = at;
      r.progress('web', 'upload', p(at / 1000, at * 100));
      expect(shown(), `at ${at} ms`).toBe(expected);
    }
    expect(lines.at(-1)).toMatch(/web: {3}upload: 10\/10 files, 1\.0 MB of 10 MB, 100 KB\/s, ETA 1m30s$/);
  });
});

describe('upload progress through the engine', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-progress-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reaches the reporter with this run’s totals', async () => {
    const app = path.join(dir, 'app');
    fs.mkdirSync(path.join(app, 'lib'), { recursive: true });
    fs.writeFileSync(path.join(app, 'index.html'), 'x'.repeat(1000));
    fs.writeFileSync(path.join(app, 'lib/a.js'), 'y'.repeat(234));
    const loaded = parseConfig(
      'application: p\nsource: app\nhosts:\n  here:\n    local: true\n    deploy_path: ./target\n',
      path.join(dir, 'deploy.yml'),
      {},
    );
    const seen: TransferProgress[] = [];
    const reporter = Object.assign(new MemoryReporter(), {
      progress: (_h: string, id: string, q: TransferProgress) => {
        expect(id).toBe('upload');
        seen.push({ ...q });
      },
    });
    const result = await deploy({ loaded, selector: 'here', reporter });
    expect(result.exitCode, reporter.events.join('\n')).toBe(0);
    const last = seen.at(-1)!;
    expect(last.totalBytes).toBe(1234);
    expect(last.bytes).toBe(1234);
    expect(last.files).toBe(last.totalFiles);
    expect(last.totalFiles).toBe(3); // index.html, lib/, lib/a.js
  });
});
