import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { composeScript } from '../../../src/engine/compose.js';
import { emptyRemoteState } from '../../../src/layout/remote-state.js';
import { persistenceOf } from '../../../src/persistence/app-persistence.js';
import { shared } from '../../../src/stages/shared.js';
import { releaseContext } from '../../support/stage-context.js';
import { tmpDir, writeTree } from '../../support/project.js';

const work = tmpDir('shipshape-legacy-manifest-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const LIVE = '20300101-000001';
const NEW = '20300101-000002';

/**
 * A host last deployed by an older shipshape: the live release's list from its switch is the
 * line-based .tsv (as that version wrote it, with GNU find). This deploy newly shares a dir and a
 * file that shared/ already holds (put there by hand), while the live release keeps the copies its
 * deploy put there. Runs the shared stage with /bin/sh as the executor runs it.
 */
function runNewlyShared(name: string, appWrites: Record<string, string>) {
  const root = path.join(work, name);
  const live = path.join(root, 'releases', LIVE);
  writeTree(live, { 'index.php': 'v1', 'uploads/logo.png': 'logo', 'data/app.ini': 'deployed\n' });
  writeTree(path.join(root, 'releases', NEW), { 'index.php': 'v2' });
  writeTree(path.join(root, 'shared'), { 'uploads/on-disk2.txt': 'admin', 'data/app.ini': 'production\n' });
  const manifests = path.join(root, '.deploy/manifests');
  fs.mkdirSync(manifests, { recursive: true });
  const tsv = execFileSync('find', ['.', '-type', 'f', '-printf', '%s\\t%T@\\t%P\\n'], { cwd: live });
  fs.writeFileSync(path.join(manifests, `${LIVE}.tsv`), tsv);
  fs.symlinkSync(`releases/${LIVE}`, path.join(root, 'current'));
  writeTree(live, appWrites);
  const { config } = parseConfig(
    'application: a\nshared_dirs: [uploads]\nshared_files: [data/app.ini]\nhosts:\n  web: {deploy_path: /srv/app}\n',
    'deploy.yml',
    {},
  );
  const ctx = releaseContext(config, root, NEW, {
    persistence: { ...persistenceOf({ config }), shared_skeleton: [] },
    remote: {
      ...emptyRemoteState(),
      current: { kind: 'link', target: `releases/${LIVE}`, release: LIVE },
      releases: [LIVE, NEW],
    },
  });
  const script = composeScript([{ id: 'shared', commands: shared.plan(ctx) }]).text;
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr, release: path.join(root, 'releases', NEW), live };
}

describe('a path newly shared on a host whose live release has the older, line-based list', () => {
  it('what its deploy put in the live release does not stop the deploy: the new release links shared/', () => {
    const r = runNewlyShared('deployed-only', {});
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readlinkSync(path.join(r.release, 'uploads'))).toBe('../../shared/uploads');
    expect(fs.readFileSync(path.join(r.release, 'data/app.ini'), 'utf8')).toBe('production\n');
  });

  it('what the app wrote there still stops it, naming it; the live release keeps it', () => {
    const r = runNewlyShared('app-wrote', { 'uploads/photo.jpg': 'photo', 'data/app.ini': 'the app\n' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('holds 1 file(s) the app wrote');
    expect(r.stderr).toContain('photo.jpg');
    expect(fs.readFileSync(path.join(r.live, 'uploads/photo.jpg'), 'utf8')).toBe('photo');
  });

  it('a name the app wrote holding a newline counts once and is shown on the line, as \\n', () => {
    const r = runNewlyShared('newline', { 'uploads/a\nb.jpg': 'photo' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('holds 1 file(s) the app wrote');
    expect(r.stderr).toContain('(a\\nb.jpg )');
  });

  it('the live file the app rewrote is named too', () => {
    const r = runNewlyShared('app-rewrote', { 'data/app.ini': 'the app, longer\n' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/data\/app\.ini is not the file its release went live with/);
    expect(fs.readFileSync(path.join(r.live, 'data/app.ini'), 'utf8')).toBe('the app, longer\n');
  });
});
