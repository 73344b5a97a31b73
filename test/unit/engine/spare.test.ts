import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployPaths } from '../../../src/layout/paths.js';
import { planTakeSpare, spareFiles, spareTree } from '../../../src/layout/spare.js';
import type { ShellText } from '../../../src/remote/sh.js';

const run = (script: ShellText) => execFileSync('/bin/sh', ['-c', script.text], { stdio: 'pipe' });

function deployRoot() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "spare it's-"));
  const paths = deployPaths(root);
  for (const r of ['20260101-000001', '20260101-000002']) {
    fs.mkdirSync(path.join(paths.releases, r), { recursive: true });
    fs.writeFileSync(path.join(paths.releases, r, 'name'), r);
  }
  return paths;
}

describe('the spare (run by /bin/sh on a real tree)', () => {
  it('moves into the empty new release, its own directory removed; a spare that vanished or is a symlink fails with a message and moves nothing', () => {
    const paths = deployRoot();
    // What the cleanup makes of a pruned release (stages/cleanup.ts, tested with the rescue).
    fs.mkdirSync(paths.meta, { recursive: true });
    fs.renameSync(path.join(paths.releases, '20260101-000001'), spareTree(paths));
    fs.writeFileSync(spareFiles(paths), 'the probe walk\0');
    const next = path.join(paths.releases, '20260101-000003');
    fs.mkdirSync(next);
    const walk = path.join(paths.meta, 'seed-20260101-000003.spare');
    run(planTakeSpare(paths, next, walk));
    expect(fs.readFileSync(path.join(next, 'name'), 'utf8')).toBe('20260101-000001');
    expect(fs.readdirSync(next).sort()).toEqual(['name']);

    expect(fs.existsSync(spareTree(paths))).toBe(false);
    // The probe's walk of the spare stays for the seed check, under the release's name.
    expect(fs.readFileSync(walk, 'utf8')).toBe('the probe walk\0');
    expect(fs.existsSync(spareFiles(paths))).toBe(false);

    const other = path.join(paths.releases, '20260101-000004');
    fs.mkdirSync(other);
    expect(() => run(planTakeSpare(paths, other, walk))).toThrow(/disappeared after the probe listed it/);
    fs.symlinkSync(path.join(paths.releases, '20260101-000002'), spareTree(paths));
    expect(() => run(planTakeSpare(paths, other, walk))).toThrow(/disappeared/);
    expect(fs.readdirSync(other)).toEqual([]);
    expect(fs.readFileSync(path.join(paths.releases, '20260101-000002', 'name'), 'utf8')).toBe(
      '20260101-000002',
    );
    fs.rmSync(paths.root, { recursive: true });
  });

  it('leaves a process still running from the pruned release writing into nothing, not into the new release', () => {
    const paths = deployRoot();
    fs.mkdirSync(paths.meta, { recursive: true });
    fs.mkdirSync(path.join(paths.releases, '20260101-000001', 'cache'));
    fs.renameSync(path.join(paths.releases, '20260101-000001'), spareTree(paths));
    const next = path.join(paths.releases, '20260101-000003');
    fs.mkdirSync(next);
    const walk = path.join(paths.meta, 'seed-20260101-000003.spare');
    // A worker started from the release before it was pruned: its working directory is the
    // spare's own directory. It writes once the new release is made (after the seed check).
    const late = execFileSync(
      '/bin/sh',
      [
        '-c',
        `cd "$1" && sh -c "$2" && { echo late > export.csv && echo wrote || echo refused; } && { echo late > cache/x || echo refused; }`,
        'sh',
        spareTree(paths),
        planTakeSpare(paths, next, walk).text,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    expect(late.trim().split('\n')).toEqual(['refused', 'refused']);
    expect(fs.readdirSync(next).sort()).toEqual(['cache', 'name']);
    expect(fs.readdirSync(path.join(next, 'cache'))).toEqual([]);
    expect(fs.existsSync(spareTree(paths))).toBe(false);
    fs.rmSync(paths.root, { recursive: true });
  });
});
