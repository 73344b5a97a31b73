import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { quote } from '../../src/remote/sh.js';
import { runCli, sshHost, writeConfig, writeTree } from '../support/project.js';
import {
  APP_USER,
  DEPLOY_USER,
  describeRealServer,
  realRoot,
  realWritable,
  startRealSshd,
  tryAs,
  uidOf,
} from '../support/real-server.js';
import type { SshdServer } from '../support/sshd.js';
import { useSshd } from '../support/sshd-fixture.js';

const PRODUCTION_ENV = 'APP_ENV=production\nAPP_DEBUG=false\nAPP_KEY=base64:c2VjcmV0LXByb2R1Y3Rpb24ta2V5\n';

/** A Laravel app (the recipe brings the shared skeleton and requires .env) and its production copies. */
function laravel(root: string) {
  writeTree(root, {
    'app/artisan': { content: '#!/usr/bin/env php\n<?php\n', mode: 0o755 },
    'app/index.php': '<?php\n',
    '.env.production': PRODUCTION_ENV,
    'master.key': 'k3y-for-production\n',
  });
}

/** A command line the report printed, split as the shell would: the arguments after `deploy`. */
function asTyped(line: string): string[] {
  const words = execFileSync('/bin/sh', ['-c', 'eval "set -- $1"; printf \'%s\\0\' "$@"', 'sh', line], {
    encoding: 'utf8',
  })
    .split('\0')
    .slice(0, -1);
  expect(words[0]).toBe('deploy');
  return words.slice(1);
}

const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);
const kinds = (stdout: string) =>
  stdout
    .split('\n')
    .map((l) => /^ {2}(\w+) +(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => `${m[1]} ${m[2]}`);

describe('deploy setup over a real sshd', () => {
  let server: SshdServer;
  let work: string;
  useSshd('shipshape-setup-', (fx) => ({ server, work } = fx));

  // duplicates: each setup test writes its own deploy.yml; they differ in the keys under test.
  it('creates the layout and skeleton, puts files 0640 with their directories, lists what is missing; runs again unchanged', async () => {
    const root = path.join(work, 'fresh');
    laravel(root);
    const deployPath = path.join(root, 'srv/nested/shop');
    const file = writeConfig(root, {
      application: 'shop',
      source: 'app',
      shared_files: ['config/oauth-private.key', { path: 'config/seeded.json', seed_shared: true }],
      hosts: { web: sshHost(server, deployPath, { stage: 'production' }) },
    });
    const put = ['--put', '.env.production:.env', '--put', 'master.key:config/keys/master.key'];
    const first = await runCli(['-c', file, 'setup', 'production', ...put], { cwd: root });
    expect(first.code, first.output).toBe(0);
    const lines = kinds(first.stdout);
    expect(lines).toEqual(
      expect.arrayContaining([
        `created ${deployPath}`,
        'created releases/',
        'created shared/',
        'created .deploy/',
        'created shared/storage/framework/sessions/',
        'created shared/storage/logs/',
        expect.stringMatching(/^put shared\/\.env from \.env\.production, mode 0640/),
        expect.stringMatching(/^put shared\/config\/keys\/master\.key from master\.key/),
        `missing shared/config/oauth-private.key (required): deploy -c ${quote(file)} setup web --put config/oauth-private.key.production:config/oauth-private.key`,
      ]),
    );
    expect(first.stdout).toContain('ready except for 1 required shared file(s)');
    // The first deploy seeds it from the upload: nothing for setup to ask for.
    expect(first.stdout).not.toContain('config/seeded.json');
    const shared = path.join(deployPath, 'shared');
    expect(fs.readFileSync(path.join(shared, '.env'), 'utf8')).toBe(PRODUCTION_ENV);
    expect(mode(path.join(shared, '.env'))).toBe('640');
    expect(mode(path.join(shared, 'config/keys/master.key'))).toBe('640');
    // The file's contents are never printed.
    expect(first.output).not.toContain('c2VjcmV0');

    const before = fs.statSync(path.join(shared, '.env'));
    fs.writeFileSync(path.join(root, '.env.production'), 'APP_ENV=changed-locally\n');
    const again = await runCli(['-c', file, 'setup', 'web', ...put], { cwd: root });
    expect(again.code, again.output).toBe(0);
    expect(kinds(again.stdout).filter((l) => l.startsWith('created') || l.startsWith('put'))).toEqual([]);
    expect(again.stdout).toContain('kept     shared/.env (it exists; --force replaces it)');
    expect(fs.readFileSync(path.join(shared, '.env'), 'utf8')).toBe(PRODUCTION_ENV);
    expect(fs.statSync(path.join(shared, '.env')).mtimeMs).toBe(before.mtimeMs);

    const forced = await runCli(['-c', file, 'setup', 'web', '--force', '--put', '.env.production:.env'], {
      cwd: root,
    });
    expect(forced.code, forced.output).toBe(0);
    expect(forced.stdout).toMatch(/replaced shared\/\.env from \.env\.production/);
    expect(fs.readFileSync(path.join(shared, '.env'), 'utf8')).toBe('APP_ENV=changed-locally\n');
    expect(mode(path.join(shared, '.env'))).toBe('640');
    expect(fs.readdirSync(shared).filter((n) => n.startsWith('.shipshape-put'))).toEqual([]);
  });

  it('the report’s hints work as printed, with the -c the user typed', async () => {
    const root = path.join(work, 'typed');
    laravel(root);
    // The default deploy.yml is another app's: a hint without -c would put the file there.
    const other = path.join(root, 'other.server');
    const deployPath = path.join(root, 'srv');
    fs.mkdirSync(path.join(root, 'ops dir'));
    const typed = path.join('ops dir', 'prod.yml');
    const shop = (extra: Record<string, unknown> = {}) =>
      fs.renameSync(
        writeConfig(root, {
          application: 'shop',
          source: '../app',
          shared_files: ['config/oauth-private.key'],
          hosts: { web: sshHost(server, deployPath, { stage: 'production' }) },
          ...extra,
        }),
        path.join(root, typed),
      );
    shop();
    writeConfig(root, { application: 'other', source: 'app', hosts: { web: sshHost(server, other) } });
    const first = await runCli(['-c', typed, 'setup', 'production'], { cwd: root });
    expect(first.code, first.output).toBe(0);
    const hints = first.stdout
      .split('\n')
      .flatMap((l) => /^ {2}missing .*\(required\): (.*)$/.exec(l)?.[1] ?? []);
    expect(hints).toEqual([
      "deploy -c 'ops dir/prod.yml' setup web --put .env.production:.env",
      "deploy -c 'ops dir/prod.yml' setup web --put config/oauth-private.key.production:config/oauth-private.key",
    ]);
    fs.mkdirSync(path.join(root, 'config'));
    fs.writeFileSync(path.join(root, 'config/oauth-private.key.production'), 'oauth key\n');
    for (const hint of hints) {
      const r = await runCli(asTyped(hint), { cwd: root });
      expect(r.code, r.output).toBe(0);
    }
    expect(fs.readFileSync(path.join(deployPath, 'shared/.env'), 'utf8')).toBe(PRODUCTION_ENV);
    expect(fs.readFileSync(path.join(deployPath, 'shared/config/oauth-private.key'), 'utf8')).toBe(
      'oauth key\n',
    );
    expect(fs.existsSync(path.join(other, 'shared/.env'))).toBe(false);

    // A problem's "run again" names the same deploy.yml.
    shop({ writable_mode: 'acl', writable_user: 'no-such-user' });
    writeConfig(root, { application: 'other', source: 'app', hosts: { web: sshHost(server, other) } });
    const again = await runCli(['-c', typed, 'setup', 'web'], { cwd: root });
    expect(again.code, again.output).toBe(1);
    expect(again.stdout).toContain("fix them and run `deploy -c 'ops dir/prod.yml' setup web` again");
  });

  it('writable_mode skip puts 0600; a bad --put exits 2 before any connection', async () => {
    const root = path.join(work, 'skip');
    laravel(root);
    const deployPath = path.join(root, 'srv');
    const file = writeConfig(root, {
      application: 'shop',
      source: 'app',
      writable_mode: 'skip',
      hosts: { web: sshHost(server, deployPath) },
    });
    const ok = await runCli(['-c', file, 'setup', 'web', '--put', '.env.production:.env'], { cwd: root });
    expect(ok.code, ok.output).toBe(0);
    expect(mode(path.join(deployPath, 'shared/.env'))).toBe('600');
    expect(ok.stdout).toContain('ready for the first deploy');

    const before = await server.connections();
    for (const bad of [
      'nope.env:.env',
      '.env.production:../outside',
      '.env.production',
      'master.key:/etc/x',
    ]) {
      const r = await runCli(['-c', file, 'setup', 'web', '--put', bad], { cwd: root });
      expect(r.code, `${bad}: ${r.output}`).toBe(2);
      expect(r.stderr).toContain(`--put ${bad}`);
    }
    expect(await server.connections()).toBe(before);
  });

  it('never writes through a symlink in shared/', async () => {
    const root = path.join(work, 'symlink');
    laravel(root);
    const deployPath = path.join(root, 'srv');
    const outside = path.join(root, 'outside');
    fs.mkdirSync(path.join(deployPath, 'shared'), { recursive: true });
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(deployPath, 'shared/config'));
    const file = writeConfig(root, {
      application: 'shop',
      source: 'app',
      hosts: { web: sshHost(server, deployPath) },
    });
    const r = await runCli(['-c', file, 'setup', 'web', '--put', 'master.key:config/master.key'], {
      cwd: root,
    });
    expect(r.code, r.output).toBe(1);
    expect(r.stdout).toContain(
      'problem  refusing to write shared/config/master.key through a symlink in shared/',
    );
    expect(fs.readdirSync(outside)).toEqual([]);

    // --force over the link itself replaces the link, and never puts the file where it points.
    const forced = await runCli(['-c', file, 'setup', 'web', '--force', '--put', 'master.key:config'], {
      cwd: root,
    });
    expect(forced.code, forced.output).toBe(0);
    expect(forced.stdout).toMatch(/replaced shared\/config from master\.key/);
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.readFileSync(path.join(deployPath, 'shared/config'), 'utf8')).toBe('k3y-for-production\n');

    // A directory is not a file to replace, --force or not: a problem, and nothing left in it.
    const logs = path.join(deployPath, 'shared/storage/logs');
    for (const force of [[], ['--force']]) {
      const r = await runCli(['-c', file, 'setup', 'web', ...force, '--put', 'master.key:storage/logs'], {
        cwd: root,
      });
      expect(r.code, r.output).toBe(1);
      expect(r.stdout).toContain('problem  shared/storage/logs is a directory; a file cannot replace it');
      expect(fs.readdirSync(logs)).toEqual([]);
    }
  });
});

describeRealServer('deploy setup as a non-root deploy user, with an app user', () => {
  let server: SshdServer;
  let work: string;
  useSshd('shipshape-setup-real-', (fx) => ({ server, work } = fx), { start: () => startRealSshd() });

  it('acl: the put file is 0640, the deploy user’s, readable by the app user; the checks pass', async () => {
    const { root: serverRoot, deployPath, cleanup } = realRoot();
    try {
      const root = path.join(work, 'acl');
      laravel(root);
      const file = writeConfig(root, {
        application: 'shop',
        source: 'app',
        ...realWritable,
        hosts: { web: sshHost(server, deployPath) },
      });
      const r = await runCli(['-c', file, 'setup', 'web', '--put', '.env.production:.env'], { cwd: root });
      expect(r.code, r.output).toBe(0);
      expect(kinds(r.stdout)).toEqual(
        expect.arrayContaining([
          `ok the deploy user can write ${deployPath}`,
          `ok writable_user ${APP_USER} exists`,
          'ok setfacl is installed',
        ]),
      );
      expect(r.stdout).toMatch(
        new RegExp(
          `put +shared/\\.env from \\.env\\.production, mode 0640 and an ACL entry: readable by ${APP_USER}`,
        ),
      );
      const env = path.join(deployPath, 'shared/.env');
      expect(mode(env)).toBe('640');
      expect(fs.statSync(env).uid).toBe(uidOf(DEPLOY_USER));
      expect(execFileSync('getfacl', ['-p', env], { encoding: 'utf8' })).toContain(`user:${APP_USER}:r--`);
      expect(tryAs(APP_USER, `cat ${env}`)).toEqual({ status: 0, output: PRODUCTION_ENV });
      // The skeleton the deploy user made is writable for the app, as the deploy would make it.
      expect(tryAs(APP_USER, `touch ${deployPath}/shared/storage/logs/app.log`).status).toBe(0);
    } finally {
      cleanup();
      void serverRoot;
    }
  });

  it('reports a writable_user that does not exist and a deploy path it cannot create (exit 1)', async () => {
    const { root: serverRoot, cleanup } = realRoot();
    try {
      const root = path.join(work, 'problems');
      laravel(root);
      // Under the root-owned temporary directory, not the deploy user's server/.
      const deployPath = path.join(serverRoot, 'not-mine/shop');
      const file = writeConfig(root, {
        application: 'shop',
        source: 'app',
        writable_mode: 'acl',
        writable_user: 'no-such-user',
        hosts: { web: sshHost(server, deployPath) },
      });
      const r = await runCli(['-c', file, 'setup', 'web'], { cwd: root });
      expect(r.code, r.output).toBe(1);
      expect(r.stdout).toContain(`problem  cannot create ${deployPath}`);
      expect(r.stdout).toContain(`problem  ${DEPLOY_USER} cannot write ${deployPath}/shared`);
      expect(r.stdout).toContain('problem  writable_user no-such-user does not exist on this host');
      expect(r.stdout).toContain(
        `14 problem(s): fix them and run \`deploy -c ${quote(file)} setup web\` again`,
      );
    } finally {
      cleanup();
    }
  });
});
