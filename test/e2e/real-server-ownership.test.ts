import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli, writeTree } from '../support/project.js';
import {
  APP_GROUP,
  APP_USER,
  DEPLOY_USER,
  describeRealServer,
  realProject,
  realSuite,
  runAs,
} from '../support/real-server.js';
import { quote } from '../../src/remote/sh.js';

/**
 * What another user owns on a real server, where the deploy user changes permissions: an admin's
 * `chown -R` of a shared dir, and writable_mode chown without root. `deploy setup` must report it
 * before the first deploy fails on it, and the deploy's error must name what to change and how.
 */
describeRealServer('a real server: writable dirs another user owns', () => {
  const suite = realSuite();

  it.each(['acl', 'chmod'])(
    'a shared dir an admin gave to the app user (chown -R): setup reports it with the chown that fixes it, the deploy fails naming the shared dir and the same command, and once it is done both succeed and the app keeps its files (writable_mode %s)',
    async (mode) => {
      const p = realProject(
        suite,
        'real-owned',
        { writable_mode: mode, shared_dirs: ['storage'], writable_dirs: ['storage', 'storage/logs'] },
        { 'index.php': 'v1\n', 'storage/logs/.keep': '' },
        'shipshape-real-owned-',
      );
      const deploy = (args: string[] = []) => runCli(['-c', p.file, ...args, 'web']);
      const first = await deploy(['setup']);
      expect(first.code, first.output).toBe(0);
      // The admin prepares storage for the app, as Laravel's guides say: the app user's, group-writable.
      const storage = path.join(p.deployPath, 'shared/storage');
      const logs = path.join(storage, 'logs');
      fs.mkdirSync(logs, { recursive: true });
      execFileSync('chown', ['-R', `${APP_USER}:${APP_GROUP}`, storage]);
      execFileSync('chmod', ['-R', '775', storage]);
      runAs(APP_USER, 'printf "old\\n" > "$1"', [path.join(logs, 'app.log')]);

      const setup = await deploy(['setup']);
      expect(setup.code, setup.output).toBe(1);
      expect(setup.output).not.toContain('ready for the first deploy');
      for (const [rel, abs] of [
        ['storage', storage],
        ['storage/logs', logs],
      ] as const) {
        expect(setup.stdout).toContain(
          `problem  shared/${rel} is owned by ${APP_USER}, not ${DEPLOY_USER}: writable_mode ${mode} changes its permissions on every deploy, which only its owner may. As root: chown ${DEPLOY_USER} -- ${abs}`,
        );
      }

      const failed = await deploy();
      expect(failed.code, failed.output).toBe(1);
      expect(failed.output).toMatch(
        new RegExp(
          `writable_mode ${mode} could not change the permissions of ${storage} \\(\\S+/releases/\\S+/storage links to it\\), owned by ${APP_USER}`,
        ),
      );
      expect(failed.output).toContain(`\`chown ${DEPLOY_USER} -- ${quote(storage)}`);
      expect(fs.existsSync(path.join(p.deployPath, 'current'))).toBe(false);

      // Done as both say (the command names one dir at a time): setup is content, the deploy goes live.
      execFileSync('chown', [DEPLOY_USER, '--', storage, logs]);
      const again = await deploy(['setup']);
      expect(again.code, again.output).toBe(0);
      expect(again.stdout).toContain('ready for the first deploy');
      const done = await deploy();
      expect(done.code, done.output).toBe(0);
      const current = path.join(p.deployPath, 'current/storage/logs');
      runAs(APP_USER, 'printf "more\\n" >> "$1/app.log" && printf "new\\n" > "$1/new.log"', [current]);
      expect(fs.readFileSync(path.join(logs, 'app.log'), 'utf8')).toBe('old\nmore\n');
      expect(fs.readFileSync(path.join(logs, 'new.log'), 'utf8')).toBe('new\n');

      // Given to the app again once a deploy has set the ACLs: setfacl finds nothing to change, which
      // needs no ownership, so setup has nothing to report and deploys go on; chmod cannot but change.
      execFileSync('chown', ['-R', APP_USER, storage]);
      const regiven = await deploy(['setup']);
      expect(regiven.code, regiven.output).toBe(mode === 'acl' ? 0 : 1);
      writeTree(p.source, { 'index.php': 'v2\n' });
      const next = await deploy();
      expect(next.code, next.output).toBe(mode === 'acl' ? 0 : 1);
    },
  );

  it('writable_mode chown with a non-root deploy user: setup says it needs root and suggests acl; the deploy fails with the same advice', async () => {
    const p = realProject(
      suite,
      'real-chown',
      { writable_mode: 'chown', writable_dirs: ['exports'] },
      { 'index.php': 'v1\n', 'exports/.keep': '' },
      'shipshape-real-chown-',
    );
    const deploy = (args: string[] = []) => runCli(['-c', p.file, ...args, 'web']);
    const setup = await deploy(['setup']);
    expect(setup.code, setup.output).toBe(1);
    expect(setup.stdout).toContain(
      `problem  writable_mode chown needs the deploy user to be root (only root may give a file away), and ${DEPLOY_USER} is not: use writable_mode acl with writable_user ${APP_USER}`,
    );
    const failed = await deploy();
    expect(failed.code, failed.output).toBe(1);
    expect(failed.output).toContain(
      `writable_mode chown could not give the writable dirs to ${APP_USER}: only root may give a file away, and the deploy user ${DEPLOY_USER} is not root`,
    );
    expect(failed.output).toContain(
      `hint: \`current\` was not switched. With a non-root deploy user use \`writable_mode: acl\` (writable_user: ${APP_USER})`,
    );
    // The advice taken: the same server deploys.
    fs.writeFileSync(
      p.file,
      fs.readFileSync(p.file, 'utf8').replace('writable_mode: chown', 'writable_mode: acl'),
    );
    writeTree(p.source, { 'index.php': 'v2\n' });
    const done = await deploy();
    expect(done.code, done.output).toBe(0);
  });

  it('a directory the app made 0700 in the live release: the full upload says which directory the deploy user could not read and what to do, not that tools are missing; opened to the group, the next deploy is incremental again', async () => {
    const p = realProject(
      suite,
      'real-closed',
      { writable_dirs: ['cache'] },
      { 'index.php': 'v1\n', 'cache/.keep': '' },
      'shipshape-real-closed-',
    );
    const deploy = () => runCli(['-c', p.file, 'web']);
    const first = await deploy();
    expect(first.code, first.output).toBe(0);
    const v1 = p.live();
    const closed = path.join(p.deployPath, 'current/cache/private');
    runAs(APP_USER, 'mkdir -m 700 "$1" && printf "secret\\n" > "$1/token"', [closed]);

    writeTree(p.source, { 'index.php': 'v2\n' });
    const second = await deploy();
    expect(second.code, second.output).toBe(0);
    expect(second.output).not.toContain('GNU find');
    expect(second.output).toContain(
      `full upload: could not list ${v1} on the server: the deploy user may not read cache/private in it (find: `,
    );
    expect(second.output).toMatch(
      /cache\/private'?: Permission denied\)\. Nothing is lost, but every deploy uploads in full/,
    );
    expect(second.output).toContain(`as the app user: chmod -R g+rX releases/${v1}/cache/private`);

    // Done as it says in the release now live: the deploy after it links again.
    const v2 = p.live();
    runAs(APP_USER, 'mkdir -m 700 "$1" && chmod -R g+rX "$1"', [
      path.join(p.deployPath, 'current/cache/private'),
    ]);
    writeTree(p.source, { 'index.php': 'v3\n' });
    const third = await deploy();
    expect(third.code, third.output).toBe(0);
    expect(third.output).toContain(`incremental upload from ${v2}`);
  });

  it('a directory the app made in public_dir with writable_mode chmod, which the deploy user may not write: the deploy stops before the switch naming it, nothing moved, and says what to do; done, the next deploy shares it and the app keeps its files', async () => {
    const p = realProject(
      suite,
      'real-public',
      { writable_mode: 'chmod', public_dir: 'public', writable_dirs: ['public'] },
      { 'index.php': 'v1\n', 'public/index.php': 'front\n' },
      'shipshape-real-public-',
    );
    const deploy = () => runCli(['-c', p.file, 'web']);
    const first = await deploy();
    expect(first.code, first.output).toBe(0);
    const v1 = p.live();
    const uploads = path.join(p.deployPath, 'releases', v1, 'public/uploads');
    runAs(APP_USER, 'mkdir "$1" && printf "photo\\n" > "$1/a.jpg"', [uploads]);

    writeTree(p.source, { 'index.php': 'v2\n' });
    const stopped = await deploy();
    expect(stopped.code, stopped.output).toBe(1);
    expect(stopped.output).toContain(
      `${uploads} (owned by ${APP_USER}): the deploy user may not write it, which moving a directory needs.`,
    );
    expect(stopped.output).toContain(`Nothing was moved. As its owner: chmod g+w ${uploads}`);
    expect(p.live()).toBe(v1);
    expect(fs.readFileSync(path.join(uploads, 'a.jpg'), 'utf8')).toBe('photo\n');
    expect(fs.existsSync(path.join(p.deployPath, 'shared/public/uploads'))).toBe(false);

    // Done as it says: the deploy moves it into shared/public, and the app still writes there.
    runAs(APP_USER, 'chmod g+w "$1"', [uploads]);
    const done = await deploy();
    expect(done.code, done.output).toBe(0);
    expect(p.live()).not.toBe(v1);
    const shared = path.join(p.deployPath, 'shared/public/uploads');
    expect(fs.readFileSync(path.join(shared, 'a.jpg'), 'utf8')).toBe('photo\n');
    runAs(APP_USER, 'printf "second\\n" > "$1/b.jpg"', [path.join(p.deployPath, 'current/public/uploads')]);
    expect(fs.readFileSync(path.join(shared, 'b.jpg'), 'utf8')).toBe('second\n');
  });
});
