import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { composeScript } from '../../../src/engine/compose.js';
import { persistenceOf } from '../../../src/persistence/app-persistence.js';
import { shared } from '../../../src/stages/shared.js';
import { needs } from '../../support/requirements.js';
import { releaseContext } from '../../support/stage-context.js';
import { tmpDir, writeTree } from '../../support/project.js';

const work = tmpDir('shipshape-shared-failures-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The shared stage of a first deploy, run by /bin/sh as the executor runs it (set -e). */
function runShared(
  name: string,
  yaml: string,
  release: Record<string, string>,
  sharedTree: Record<string, string>,
  skeleton: string[] = [],
  env?: NodeJS.ProcessEnv,
) {
  const root = path.join(work, name);
  const r = '20300101-000001';
  writeTree(path.join(root, 'releases', r), release);
  writeTree(path.join(root, 'shared'), sharedTree);
  fs.mkdirSync(path.join(root, '.deploy'), { recursive: true });
  const { config } = parseConfig(
    `application: a\n${yaml}hosts:\n  web: {deploy_path: /srv/app}\n`,
    'deploy.yml',
    {},
  );
  const ctx = releaseContext(config, root, r, {
    persistence: { ...persistenceOf({ config }), shared_skeleton: skeleton },
  });
  const script = composeScript([{ id: 'shared', commands: shared.plan(ctx) }]).text;
  const releasePath = path.join(root, 'releases', r);
  try {
    execFileSync('/bin/sh', ['-c', script], { stdio: 'pipe', env: env ?? process.env });
    return { code: 0, release: releasePath, stderr: '' };
  } catch (e) {
    const { status, stderr } = e as { status: number; stderr: Buffer };
    return { code: status, release: releasePath, stderr: stderr.toString() };
  }
}

describe('the shared stage stops at a step that fails (run by /bin/sh on a real tree)', () => {
  it('a seed_shared file that cannot be moved into shared/ fails the stage; the uploaded file is not removed for a link to nothing', () => {
    // shared/config is a file: the file's directory cannot be made there.
    const r = runShared(
      'seed-file',
      'shared_files: [{path: config/app.json, seed_shared: true}]\n',
      { 'config/app.json': '{"seed":true}' },
      { config: 'not a directory' },
    );
    expect(r.code).not.toBe(0);
    expect(fs.readFileSync(path.join(r.release, 'config/app.json'), 'utf8')).toBe('{"seed":true}');
  });

  it('a when_absent: empty file that cannot be created fails the stage', () => {
    const r = runShared(
      'empty-file',
      'shared_files: [{path: database/app.sqlite, optional: true, when_absent: empty}]\n',
      { 'index.php': '<?php' },
      { database: 'not a directory' },
    );
    expect(r.code).not.toBe(0);
  });

  it('a skeleton directory that cannot be made in shared/ fails the stage', () => {
    // As the Laravel recipe's skeleton has it; storage/framework is a file.
    const r = runShared(
      'skeleton',
      'shared_dirs: [storage]\n',
      { 'index.php': '<?php' },
      { 'storage/framework': 'not a directory' },
      ['storage/framework/sessions'],
    );
    expect(r.code).not.toBe(0);
  });

  it('a shared dir the seed cannot be written into fails the stage, naming each entry it lacks; what shared/ held is kept', () => {
    // shared/storage/logs is a file: the seed's logs/.gitkeep has nowhere to go.
    const r = runShared(
      'seed-dir',
      'shared_dirs: [storage]\n',
      { 'storage/app.json': 'skeleton', 'storage/logs/.gitkeep': '', 'storage/cache/.gitkeep': '' },
      { 'storage/app.json': 'live', 'storage/logs': 'not a directory' },
    );
    expect(r.code, r.stderr).not.toBe(0);
    const storage = path.join(work, 'seed-dir/shared/storage');
    // What is in the way is named, and that it stays.
    expect(r.stderr).toContain(
      `not seeded into ${storage}: logs/.gitkeep (logs there is not a directory and is kept: move it away for the seed to add this)\n`,
    );
    expect(r.stderr).not.toContain('cache');
    expect(fs.readFileSync(path.join(storage, 'app.json'), 'utf8')).toBe('live');
    expect(fs.readFileSync(path.join(storage, 'logs'), 'utf8')).toBe('not a directory');
    expect(fs.existsSync(path.join(storage, 'cache/.gitkeep'))).toBe(true);
  });

  it('a name the seed could not add that holds a newline is one line of the error, its newline written as \\n', () => {
    const r = runShared(
      'seed-newline',
      'shared_dirs: [storage]\n',
      { 'storage/logs/a\nnot seeded into here: b.log': '' },
      { 'storage/logs': 'not a directory' },
    );
    expect(r.code, r.stderr).not.toBe(0);
    const storage = path.join(work, 'seed-newline/shared/storage');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('not seeded into'))).toEqual([
      `not seeded into ${storage}: logs/a\\nnot seeded into here: b.log (logs there is not a directory and is kept: move it away for the seed to add this)`,
    ]);
  });

  it('a shared dir holding a link to nothing where the seed has a directory: the check names it, and the link stays', () => {
    const storage = path.join(work, 'seed-dangling/shared/storage');
    fs.mkdirSync(storage, { recursive: true });
    fs.symlinkSync('/nonexistent/cache', path.join(storage, 'cache'));
    const r = runShared(
      'seed-dangling',
      'shared_dirs: [storage]\n',
      { 'storage/cache/.gitkeep': '', 'storage/new.txt': 'x' },
      { 'storage/app.json': 'live' },
    );
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr).toContain(
      `not seeded into ${storage}: cache/.gitkeep (cache there is not a directory and is kept: move it away for the seed to add this)\n`,
    );
    expect(fs.readlinkSync(path.join(storage, 'cache'))).toBe('/nonexistent/cache');
    expect(fs.readFileSync(path.join(storage, 'new.txt'), 'utf8')).toBe('x');
  });

  it('a seed whose reading tar fails (a file it cannot read) fails the stage, though the extracting tar went through: the check names the file', () => {
    // dash has no pipefail: only the extracting tar's status counts. The reading one leaves out a
    // file and exits 2, as GNU tar does at a file it cannot open; the release's copy is there.
    const shim = path.join(work, 'shim');
    fs.mkdirSync(shim, { recursive: true });
    const realTar = execFileSync('/bin/sh', ['-c', 'command -v tar'], { encoding: 'utf8' }).trim();
    fs.writeFileSync(
      path.join(shim, 'tar'),
      `#!/bin/sh
case " $* " in
*" -cf "*) ${realTar} --exclude=./logs/app.log "$@"; exit 2 ;;
esac
exec ${realTar} "$@"
`,
      { mode: 0o755 },
    );
    const r = runShared(
      'seed-read',
      'shared_dirs: [storage]\n',
      { 'storage/app.json': 'skeleton', 'storage/logs/app.log': 'seed' },
      { 'storage/app.json': 'live' },
      [],
      { ...process.env, PATH: `${shim}:${process.env.PATH}` },
    );
    expect(r.code, r.stderr).not.toBe(0);
    const storage = path.join(work, 'seed-read/shared/storage');
    expect(r.stderr).toContain(`not seeded into ${storage}: logs/app.log`);
    expect(r.stderr).not.toContain('seeding');
    expect(fs.existsSync(path.join(storage, 'logs'))).toBe(true);
    expect(fs.readFileSync(path.join(storage, 'app.json'), 'utf8')).toBe('live');
  });

  it('a seed cut short by a full disk fails the stage (a real tmpfs of 64 kB)', (ctx) => {
    const storage = path.join(work, 'seed-full/shared/storage');
    fs.mkdirSync(storage, { recursive: true });
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', storage]).status === 0;
    needs(ctx, mounted ? undefined : 'a 64 kB tmpfs cannot be mounted (needs root and mount)');
    try {
      const r = runShared(
        'seed-full',
        'shared_dirs: [storage]\n',
        { 'storage/app.json': 'skeleton', 'storage/fonts/big.bin': 'x'.repeat(256 * 1024) },
        { 'storage/app.json': 'live' },
      );
      expect(r.code, r.stderr).not.toBe(0);
      // tar's own words for a full disk (its write came back short), then ours.
      expect(r.stderr).toContain('tar: ./fonts/big.bin: Wrote only');
      expect(r.stderr).toContain(
        `seeding ${storage} failed (tar, above); if the disk was full, the file it was writing stays cut short`,
      );
      expect(fs.readFileSync(path.join(storage, 'app.json'), 'utf8')).toBe('live');
    } finally {
      spawnSync('umount', [storage]);
    }
  });
});
