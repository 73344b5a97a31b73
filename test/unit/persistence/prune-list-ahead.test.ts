import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeScript } from '../../../src/engine/compose.js';
import { deployPaths, type DeployPaths } from '../../../src/layout/paths.js';
import { recordManifest } from '../../../src/layout/release-files.js';
import { parseRemoteState, PROBE_BEGIN, PROBE_END } from '../../../src/layout/remote-state.js';
import { spareManifest, spareTree } from '../../../src/layout/spare.js';
import {
  defineRemoveRelease,
  planGuessListAhead,
  planListAhead,
  planRemoveRelease,
} from '../../../src/persistence/rescue.js';
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
function listAhead(paths: DeployPaths, ahead: string, plan = planListAhead(paths, RELEASE)): string {
  const out = run(plan);
  const until = Date.now() + 10_000;
  while (!fs.existsSync(ahead) && Date.now() < until)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  expect(fs.existsSync(ahead)).toBe(true);
  return out;
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

  it('a deploy’s probe lists ahead the release keep_releases will prune (the newest pruned), but never the live one', () => {
    const { paths, ahead } = liveOnce();
    for (const r of ['20300101-000001', '20300101-000002'])
      writeTree(path.join(paths.releases, r), { 'x.php': r });
    fs.symlinkSync('releases/20300101-000002', paths.current);
    // Three releases and the new one, keeping three: the oldest goes, and is made the spare.
    const said = listAhead(paths, ahead, planGuessListAhead(paths, 3));
    // The probe's report names it, so the upload does not list it again.
    expect(parseRemoteState(`${PROBE_BEGIN}\n${said}${PROBE_END}\n`).listedAhead).toBe(RELEASE);
    expect(fs.readFileSync(ahead)).toEqual(
      fs.readFileSync(path.join(paths.meta, 'manifests', `${RELEASE}.list`)),
    );
    // Keeping one, the live release (the newest) would be the one; it is not listed.
    fs.rmSync(ahead);
    run(planGuessListAhead(paths, 1));
    expect(fs.readdirSync(paths.meta).filter((n) => n.startsWith('prune-'))).toEqual([]);
  });

  it('the cleanup waits for a list still being made rather than walking the release beside it', async () => {
    const { paths, dir, ahead } = liveOnce();
    // What the cleanup's own walk would see and move; the list, made before it was written, does not.
    writeTree(dir, { 'app/exports/late.csv': 'written during the deploy' });
    const manifest = path.join(paths.meta, 'manifests', `${RELEASE}.list`);
    const job = spawn('/bin/sh', ['-c', `sleep 0.3; cp "$0" "$1.tmp" && mv "$1.tmp" "$1"`, manifest, ahead], {
      stdio: 'ignore',
    });
    fs.writeFileSync(`${ahead}.pid`, `${job.pid}\n`);
    const out = prune(paths, 'spare');
    await new Promise((r) => job.on('exit', r));
    expect(out).not.toContain('@@shipshape-rescued');
    expect(fs.readFileSync(path.join(spareTree(paths), 'app/exports/late.csv'), 'utf8')).toBe(
      'written during the deploy',
    );
  });
});
