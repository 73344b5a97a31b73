import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeScript } from '../../../src/engine/compose.js';
import { deployPaths } from '../../../src/layout/paths.js';
import { recordManifest } from '../../../src/layout/release-files.js';
import { spareFiles, spareManifest, spareOrigin, spareTree } from '../../../src/layout/spare.js';
import { planRescueFromSpare, spareRescueNotes } from '../../../src/persistence/rescue.js';

let root: string | undefined;
afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = undefined;
});

const sh = (script: string) => spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });

/**
 * A spare as cleanup leaves it (its release's manifest kept beside it), into which something wrote
 * `cache/export.csv` afterwards; `probeSaw` is what the probe's walk of it would have written.
 */
function spareWithAWrite(probeSaw: 'now' | 'at pruning' | 'nothing') {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'spare-rescue-'));
  const paths = deployPaths(root);
  const spare = spareTree(paths);
  fs.mkdirSync(path.join(spare, 'app'), { recursive: true });
  fs.writeFileSync(path.join(spare, 'app/code.php'), 'code');
  fs.mkdirSync(paths.shared, { recursive: true });
  // The manifest as the switch records it, then kept as the spare's list, as cleanup does.
  expect(sh(recordManifest(paths, spare, 'R1').text).status).toBe(0);
  fs.renameSync(path.join(paths.meta, 'manifests', 'R1.list'), spareManifest(paths));
  // The release's name, and the inode of the directory the list was kept with.
  fs.writeFileSync(spareOrigin(paths), `R1\n${fs.statSync(spare, { bigint: true }).ino}\n`);
  if (probeSaw === 'at pruning') fs.copyFileSync(spareManifest(paths), spareFiles(paths));
  fs.mkdirSync(path.join(spare, 'cache'));
  fs.writeFileSync(path.join(spare, 'cache/export.csv'), 'the app wrote this');
  if (probeSaw === 'now') {
    expect(sh(recordManifest(paths, spare, 'now').text).status).toBe(0);
    fs.renameSync(path.join(paths.meta, 'manifests', 'now.list'), spareFiles(paths));
  }
  const script = composeScript([{ id: 'upload', commands: [planRescueFromSpare(paths, [])] }]).text;
  return { paths, spare, run: () => sh(script) };
}

describe('what was written into the spare since it was pruned (run by /bin/sh)', () => {
  it('moves it to shared/.rescued/<release>/ and says so; the release’s own files stay', () => {
    const { paths, spare, run } = spareWithAWrite('now');
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    const rescued = path.join(paths.shared, '.rescued', 'R1', 'cache/export.csv');
    expect(fs.readFileSync(rescued, 'utf8')).toBe('the app wrote this');
    expect(fs.existsSync(path.join(spare, 'cache/export.csv'))).toBe(false);
    expect(fs.readFileSync(path.join(spare, 'app/code.php'), 'utf8')).toBe('code');
    expect(spareRescueNotes(r.stdout, paths.shared).map((n) => n.message)).toEqual([
      `release R1: 1 file(s) were written into it after it was pruned (by a process still running from it); moved to ${paths.shared}/.rescued/R1/ before its directories were reused for the new release`,
    ]);
  });

  it('finds it with its own walk when the probe left no list of the spare', () => {
    const { paths, run } = spareWithAWrite('nothing');
    expect(run().status).toBe(0);
    expect(fs.existsSync(path.join(paths.shared, '.rescued', 'R1', 'cache/export.csv'))).toBe(true);
  });

  it('compares nothing when the probe saw the spare as it was pruned', () => {
    const { paths, spare, run } = spareWithAWrite('at pruning');
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('@@shipshape-rescued-spare');
    // (Here the probe's list is stale on purpose: the write it did not see stays where it is.)
    expect(fs.existsSync(path.join(spare, 'cache/export.csv'))).toBe(true);
    expect(fs.existsSync(path.join(paths.shared, '.rescued'))).toBe(false);
  });

  it('drops a list kept with another directory (an older shipshape made this spare): nothing is moved', () => {
    const { paths, spare, run } = spareWithAWrite('now');
    fs.writeFileSync(spareOrigin(paths), 'R1\n1\n');
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(spare, 'cache/export.csv'))).toBe(true);
    expect(fs.existsSync(spareManifest(paths))).toBe(false);
    expect(fs.existsSync(path.join(paths.shared, '.rescued'))).toBe(false);
  });

  it('stops, the spare untouched, when what was written cannot be moved', () => {
    const { paths, spare, run } = spareWithAWrite('now');
    // A file where the rescue directory must go: every move fails, even for root.
    fs.mkdirSync(path.join(paths.shared, '.rescued'));
    fs.writeFileSync(path.join(paths.shared, '.rescued', 'R1'), 'in the way');
    const r = run();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('could not be moved to shared/.rescued/; nothing was deployed');
    expect(fs.readFileSync(path.join(spare, 'cache/export.csv'), 'utf8')).toBe('the app wrote this');
  });
});
