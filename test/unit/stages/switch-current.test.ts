import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deployPaths } from '../../../src/layout/paths.js';
import { REMOTE_EXIT } from '../../../src/stages/exit-codes.js';
import { switchCurrent } from '../../../src/stages/symlink.js';
import { tmpDir } from '../../support/project.js';

/** The one switch deploy, rollback and switching back share, run as a script would run it. */
describe('switchCurrent', () => {
  let root: string;
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const setup = () => {
    root = tmpDir('shipshape-switch-');
    const paths = deployPaths(root);
    fs.mkdirSync(path.join(paths.releases, '20260101-000001'), { recursive: true });
    fs.symlinkSync('releases/20260101-000001', paths.current);
    const run = (release: string) =>
      spawnSync('/bin/sh', ['-c', switchCurrent(paths, release).text], { encoding: 'utf8' });
    return { paths, run, current: () => fs.readlinkSync(paths.current) };
  };

  it('points current at a real release directory', () => {
    const { paths, run, current } = setup();
    fs.mkdirSync(path.join(paths.releases, '20260101-000002'));
    expect(run('20260101-000002').status).toBe(0);
    expect(current()).toBe('releases/20260101-000002');
  });

  it('refuses a release that is not there, and current stays where it was', () => {
    const { run, current } = setup();
    const r = run('20260101-000009');
    expect(r.status).toBe(REMOTE_EXIT.notARelease);
    expect(r.stderr).toContain('not a directory under releases/');
    expect(current()).toBe('releases/20260101-000001');
  });

  it('refuses a symlink planted under releases/ in place of a release', () => {
    const { paths, run, current } = setup();
    const elsewhere = path.join(root, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.symlinkSync(elsewhere, path.join(paths.releases, '20260101-000003'));
    expect(run('20260101-000003').status).toBe(REMOTE_EXIT.notARelease);
    expect(current()).toBe('releases/20260101-000001');
  });

  it('never plans a switch to a name that is not a release name', () => {
    const { paths } = setup();
    for (const name of ['..', '20260101-000001\n', '20260101-000001/..', ''])
      expect(() => switchCurrent(paths, name), JSON.stringify(name)).toThrow(/not a release name/);
  });
});
