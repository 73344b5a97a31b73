import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeScript } from '../../../src/engine/compose.js';
import { deployPaths, type DeployPaths } from '../../../src/layout/paths.js';
import { recordManifest } from '../../../src/layout/release-files.js';
import { spareManifest, spareTree } from '../../../src/layout/spare.js';
import { defineRemoveRelease, planListAhead, planRemoveRelease } from '../../../src/persistence/rescue.js';
import type { ShellText } from '../../../src/remote/sh.js';
import { tmpDir, writeTree } from '../../support/project.js';

const RELEASE = '20300101-000000';

function run(...commands: ShellText[]) {
  const r = spawnSync('/bin/sh', ['-c', composeScript([{ id: 'cleanup', commands }]).text], {
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** A release that went live (its manifest taken), the one this deploy's cleanup will prune. */
function liveOnce(): { paths: DeployPaths; dir: string; ahead: string } {
  const paths = deployPaths(tmpDir('shipshape-ahead-'));
  const dir = path.join(paths.releases, RELEASE);
  writeTree(dir, { 'app/code.php': 'code', 'public/index.php': 'index' });
  run(recordManifest(paths, dir, RELEASE));
  return { paths, dir, ahead: path.join(paths.meta, `prune-${RELEASE}.list`) };
}

/** planListAhead's listing runs in the background: the script is over before it is. */
function listAhead(paths: DeployPaths, ahead: string) {
  run(planListAhead(paths, RELEASE));
  const until = Date.now() + 10_000;
  while (!fs.existsSync(ahead) && Date.now() < until)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  expect(fs.existsSync(ahead)).toBe(true);
}

const prune = (paths: DeployPaths, to: 'spare' | 'trash') =>
  run(defineRemoveRelease(paths, []), planRemoveRelease(RELEASE, to));

describe('the release kept as the spare, listed while the deploy goes on (run by /bin/sh)', () => {
  it('is listed as its manifest records it; a write after the listing stays in the spare, and the cleanup that replaces it moves it', () => {
    const { paths, ahead } = liveOnce();
    listAhead(paths, ahead);
    expect(fs.readFileSync(ahead)).toEqual(
      fs.readFileSync(path.join(paths.meta, 'manifests', `${RELEASE}.list`)),
    );
    writeTree(path.join(paths.releases, RELEASE), { 'app/exports/late.csv': 'written during the deploy' });

    const out = prune(paths, 'spare');
    expect(out).not.toContain('@@shipshape-rescued');
    const spare = spareTree(paths);
    expect(fs.readFileSync(path.join(spare, 'app/exports/late.csv'), 'utf8')).toBe(
      'written during the deploy',
    );
    // The spare keeps the manifest, not the listing, as what it held: the write is still told apart.
    expect(fs.existsSync(spareManifest(paths))).toBe(true);
    expect(fs.existsSync(ahead)).toBe(false);

    // The next cleanup, replacing it (its probe did not offer it), moves the write out first.
    const next = path.join(paths.releases, 'R2');
    writeTree(next, { 'app/code.php': 'code 2' });
    run(recordManifest(paths, next, 'R2'));
    expect(run(defineRemoveRelease(paths, []), planRemoveRelease('R2', 'spare'))).toContain(
      `@@shipshape-rescued-spare ${RELEASE} 1`,
    );
    const rescued = path.join(paths.shared, '.rescued', RELEASE, 'app/exports/late.csv');
    expect(fs.readFileSync(rescued, 'utf8')).toBe('written during the deploy');
  });

  it('what the app wrote before the listing is moved at cleanup, as without it', () => {
    const { paths, dir, ahead } = liveOnce();
    writeTree(dir, { 'app/exports/early.csv': 'written before the deploy' });
    listAhead(paths, ahead);

    expect(prune(paths, 'spare')).toContain(`@@shipshape-rescued ${RELEASE} 1`);
    const rescued = path.join(paths.shared, '.rescued', RELEASE, 'app/exports/early.csv');
    expect(fs.readFileSync(rescued, 'utf8')).toBe('written before the deploy');
    expect(fs.existsSync(path.join(spareTree(paths), 'app/exports/early.csv'))).toBe(false);
  });

  it('a release on its way to the trash is walked at cleanup whatever was listed: nothing it holds is trusted to a list', () => {
    const { paths, ahead } = liveOnce();
    listAhead(paths, ahead);
    writeTree(path.join(paths.releases, RELEASE), { 'app/exports/late.csv': 'written during the deploy' });

    expect(prune(paths, 'trash')).toContain(`@@shipshape-rescued ${RELEASE} 1`);
    const rescued = path.join(paths.shared, '.rescued', RELEASE, 'app/exports/late.csv');
    expect(fs.readFileSync(rescued, 'utf8')).toBe('written during the deploy');
    expect(fs.existsSync(ahead)).toBe(false);
  });
});
