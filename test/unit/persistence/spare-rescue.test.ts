import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeScript } from '../../../src/engine/compose.js';
import { deployPaths } from '../../../src/layout/paths.js';
import { recordManifest } from '../../../src/layout/release-files.js';
import { spareFiles, spareManifest, spareOrigin, spareTree } from '../../../src/layout/spare.js';
import { trashDir } from '../../../src/layout/trash.js';
import { sh as shText } from '../../../src/remote/sh.js';
import {
  defineRemoveRelease,
  planDropListsAhead,
  planRemoveRelease,
  planRetireSpare,
  spareUntouched,
} from '../../../src/persistence/rescue.js';
import { cleanup } from '../../../src/stages/cleanup.js';

let root: string | undefined;
afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = undefined;
});

const sh = (script: string) => spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });

/**
 * A spare as cleanup leaves it (its release's manifest kept beside it), into which something wrote
 * `cache/export.csv` afterwards; `probeSaw` is what the probe's walk of it would have written. R2 is
 * a release that went live since, about to be pruned into the spare's place.
 */
function spareWithAWrite(probeSaw: 'now' | 'at pruning' | 'nothing', ephemeral: string[] = []) {
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
  const r2 = path.join(paths.releases, 'R2');
  fs.mkdirSync(path.join(r2, 'app'), { recursive: true });
  fs.writeFileSync(path.join(r2, 'app/code.php'), 'code 2');
  expect(sh(recordManifest(paths, r2, 'R2').text).status).toBe(0);
  const untouched = composeScript([
    { id: 'probe', commands: [spareUntouched(paths, ephemeral, shText`${spareFiles(paths)}`)] },
  ]).text;
  const prune = composeScript([
    { id: 'cleanup', commands: [defineRemoveRelease(paths, []), planRemoveRelease('R2', 'spare')] },
  ]).text;
  return { paths, spare, r2, offered: () => sh(untouched).status === 0, cleanup: () => sh(prune) };
}

const notes = (stdout: string, paths: ReturnType<typeof deployPaths>) =>
  cleanup.notes!({ stdout } as never, { paths } as never).map((n) => n.message);

describe('the probe offers the spare to the plan only untouched since it was pruned (run by /bin/sh)', () => {
  it('not when its walk of the spare differs from the list kept at pruning, nor when it made none', () => {
    expect(spareWithAWrite('now').offered()).toBe(false);
    expect(spareWithAWrite('nothing').offered()).toBe(false);
  });

  it('when what was written is under its ephemeral paths alone (caches, never rescued)', () => {
    expect(spareWithAWrite('now', ['cache']).offered()).toBe(true);
    expect(spareWithAWrite('now', ['var/cache', 'cach']).offered()).toBe(false);
  });

  it('when its walk is the list byte for byte', () => {
    // (The probe's list is stale on purpose here: what it did not see is not its to see.)
    expect(spareWithAWrite('at pruning').offered()).toBe(true);
  });

  it('when nothing can tell: no list, or a list kept with another directory (an older shipshape made this spare)', () => {
    const stale = spareWithAWrite('now');
    fs.writeFileSync(spareOrigin(stale.paths), 'R1\n1\n');
    expect(stale.offered()).toBe(true);
    const none = spareWithAWrite('now');
    fs.rmSync(spareManifest(none.paths));
    expect(none.offered()).toBe(true);
  });
});

describe('an older spare the cleanup replaces, one this deploy did not reuse (run by /bin/sh)', () => {
  it('moves what was written into it to shared/.rescued/<its release>/ first, then the release takes its place', () => {
    const { paths, spare, r2, cleanup: run } = spareWithAWrite('now');
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    const rescued = path.join(paths.shared, '.rescued', 'R1', 'cache/export.csv');
    expect(fs.readFileSync(rescued, 'utf8')).toBe('the app wrote this');
    expect(fs.readFileSync(path.join(spare, 'app/code.php'), 'utf8')).toBe('code 2');
    expect(fs.existsSync(r2)).toBe(false);
    expect(fs.readFileSync(spareOrigin(paths), 'utf8')).toMatch(/^R2\n/);
    expect(notes(r.stdout, paths)).toEqual([
      `release R1: 1 file(s) were written into it late, after its check at pruning (by a process still running from it); moved to ${paths.shared}/.rescued/R1/ before the spare it became was replaced`,
    ]);
  });

  it('walks it whatever the probe saw', () => {
    const { paths, cleanup: run } = spareWithAWrite('at pruning');
    expect(run().status).toBe(0);
    expect(fs.existsSync(path.join(paths.shared, '.rescued', 'R1', 'cache/export.csv'))).toBe(true);
  });

  it('moves nothing out of one whose list was kept with another directory: it goes to the trash whole', () => {
    const { paths, cleanup: run } = spareWithAWrite('now');
    fs.writeFileSync(spareOrigin(paths), 'R1\n1\n');
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(paths.shared, '.rescued'))).toBe(false);
    const [trashed] = fs.readdirSync(trashDir(paths));
    expect(fs.readFileSync(path.join(trashDir(paths), trashed!, 'cache/export.csv'), 'utf8')).toBe(
      'the app wrote this',
    );
  });

  it('keeps it whole when that cannot be moved, and says so; the release is removed instead', () => {
    const { paths, spare, r2, cleanup: run } = spareWithAWrite('now');
    // A file where the rescue directory must go: every move fails, even for root.
    fs.mkdirSync(path.join(paths.shared, '.rescued'));
    fs.writeFileSync(path.join(paths.shared, '.rescued', 'R1'), 'in the way');
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(spare, 'cache/export.csv'), 'utf8')).toBe('the app wrote this');
    expect(fs.readFileSync(path.join(spare, 'app/code.php'), 'utf8')).toBe('code');
    expect(fs.existsSync(spareManifest(paths))).toBe(true);
    expect(fs.existsSync(r2)).toBe(false);
    const [note] = notes(r.stdout, paths);
    expect(note).toContain('the spare (release R1, pruned earlier) was kept');
    expect(note).toContain('Release R2 does not take its place');
  });

  it('gives up, once cleared, a spare its upload mode no longer uses; keeps it whole when it cannot be cleared', () => {
    const retire = (paths: ReturnType<typeof deployPaths>) =>
      sh(
        composeScript([{ id: 'cleanup', commands: [defineRemoveRelease(paths, []), planRetireSpare] }]).text,
      );
    const given = spareWithAWrite('now');
    expect(retire(given.paths).status).toBe(0);
    const rescued = path.join(given.paths.shared, '.rescued', 'R1', 'cache/export.csv');
    expect(fs.readFileSync(rescued, 'utf8')).toBe('the app wrote this');
    expect(fs.existsSync(given.spare)).toBe(false);
    expect(fs.existsSync(spareManifest(given.paths))).toBe(false);

    const stuck = spareWithAWrite('now');
    fs.mkdirSync(path.join(stuck.paths.shared, '.rescued'));
    fs.writeFileSync(path.join(stuck.paths.shared, '.rescued', 'R1'), 'in the way');
    const r = retire(stuck.paths);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(stuck.spare, 'cache/export.csv'), 'utf8')).toBe('the app wrote this');
    expect(notes(r.stdout, stuck.paths)[0]).toContain('It stays, although this upload mode keeps no spare.');
  });

  it('removes listings made ahead that no cleanup used, and halves of killed ones', () => {
    const { paths } = spareWithAWrite('nothing');
    for (const f of ['prune-R0.list', 'prune-R0.list.123', 'spare.list'])
      fs.writeFileSync(
        path.join(paths.meta, f),
        f === 'spare.list' ? fs.readFileSync(spareManifest(paths)) : 'x',
      );
    expect(sh(composeScript([{ id: 'cleanup', commands: [planDropListsAhead(paths)] }]).text).status).toBe(0);
    expect(fs.readdirSync(paths.meta).filter((f) => f.startsWith('prune-'))).toEqual([]);
    expect(fs.existsSync(spareManifest(paths))).toBe(true);
  });
});
