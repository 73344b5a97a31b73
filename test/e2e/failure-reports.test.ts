import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeployError } from '../../src/definitions/errors.js';
import { runCli, sshHost, writeConfig, writeTree } from '../support/project.js';
import { useSshd } from '../support/sshd-fixture.js';

/** A failure names the host, the stage and the command that failed, with the server's own words. */
const suite = useSshd('shipshape-failure-reports-');

describe('a remote failure is reported where it happened', () => {
  it('a deploy_path that cannot be created fails `setup` with mkdir’s error, not the lock after it', async () => {
    const dir = path.join(suite.work, 'uncreatable');
    writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n' });
    // A regular file where a directory of deploy_path must be: mkdir fails, for root too.
    writeTree(dir, { 'a-file': 'not a directory\n' });
    const file = writeConfig(dir, {
      application: 'uncreatable',
      source: 'app',
      hosts: { web: sshHost(suite.server, path.join(dir, 'a-file/srv')) },
    });
    const r = await runCli(['-c', file, 'web']);
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain('ESTAGE: web: stage `setup` failed');
    expect(r.stderr).toMatch(/command: mkdir -p .*a-file\/srv\/releases/);
    expect(r.stderr).toMatch(/stderr: mkdir: cannot create directory .*Not a directory/);
    expect(fs.readFileSync(path.join(dir, 'a-file'), 'utf8')).toBe('not a directory\n');
  });

  it('a writable dir that cannot be made fails `writable`, not a deploy that reports success', async () => {
    const dir = path.join(suite.work, 'unwritable');
    // `index.html` is a file in the release: a directory below it cannot be made.
    writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n' });
    const deployPath = path.join(dir, 'srv');
    const file = writeConfig(dir, {
      application: 'unwritable',
      source: 'app',
      writable_dirs: ['index.html/cache'],
      writable_mode: 'chmod',
      hosts: { web: sshHost(suite.server, deployPath) },
    });
    const r = await runCli(['-c', file, 'web']);
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain('ESTAGE: web: stage `writable` failed');
    expect(r.stderr).toMatch(/command: mkdir -p -- .*index\.html\/cache/);
    expect(r.stderr).toMatch(/stderr: mkdir: cannot create directory .*Not a directory/);
    expect(fs.existsSync(path.join(deployPath, 'current'))).toBe(false);
  });
});

/**
 * An app whose config is staging.yml, with no deploy.yml beside it (a hint must say which file),
 * and a deploy path whose lock `owner` holds.
 */
function lockedStaging(name: string, owner: object): { dir: string; deployPath: string } {
  const dir = path.join(suite.work, name);
  writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n' });
  const deployPath = path.join(dir, 'srv');
  fs.renameSync(
    writeConfig(dir, { application: name, source: 'app', hosts: { web: sshHost(suite.server, deployPath) } }),
    path.join(dir, 'staging.yml'),
  );
  writeTree(deployPath, { '.deploy/lock/owner.json': JSON.stringify(owner) });
  return { dir, deployPath };
}

describe('a hint works as printed', () => {
  it('ELOCKED’s unlock command names the -c file the deploy read', async () => {
    const owner = { user: 'bob', machine: 'elsewhere', pid: 1, started_at: '2026-01-01T00:00:00Z' };
    const { dir, deployPath } = lockedStaging('locked', owner);
    const r = await runCli(['-c', 'staging.yml', 'web'], { cwd: dir });
    expect(r.code, r.output).toBe(3);
    const hint = /`(deploy [^`]*unlock[^`]*)`/.exec(r.stderr)?.[1];
    expect(hint, r.stderr).toBe('deploy -c staging.yml unlock web');
    const unlock = await runCli(hint!.split(' ').slice(1), { cwd: dir });
    expect(unlock.code, unlock.output).toBe(0);
    expect(fs.existsSync(path.join(deployPath, '.deploy/lock'))).toBe(false);
  });

  it('ELOCKED’s unlock command carries the -o overrides the deploy needed to reach the server', async () => {
    const owner = { user: 'bob', machine: 'elsewhere', pid: 1, started_at: '2026-01-01T00:00:00Z' };
    const { dir, deployPath } = lockedStaging('locked-port', owner);
    // deploy.yml names a port nothing listens on; the real one comes from the command line.
    const file = path.join(dir, 'staging.yml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(`port: ${suite.server.port}`, 'port: 1'));
    const port = `hosts.web.port=${suite.server.port}`;
    const r = await runCli(['-c', 'staging.yml', '-o', port, 'web'], { cwd: dir });
    expect(r.code, r.output).toBe(3);
    const hint = /`(deploy [^`]*unlock[^`]*)`/.exec(r.stderr)?.[1];
    expect(hint, r.stderr).toBe(`deploy -c staging.yml -o ${port} unlock web`);
    const unlock = await runCli(hint!.split(' ').slice(1), { cwd: dir });
    expect(unlock.code, unlock.output).toBe(0);
    expect(fs.existsSync(path.join(deployPath, '.deploy/lock'))).toBe(false);
  });

  it('`lock status`’s stale-lock advice names the -c file it read', async () => {
    // This machine's, by a process that is gone (above Linux's largest pid_max).
    const owner = { user: 'me', machine: os.hostname(), pid: 4_194_305, started_at: '2026-01-01T00:00:00Z' };
    const { dir, deployPath } = lockedStaging('stale', owner);
    const status = await runCli(['-c', 'staging.yml', 'lock', 'status', 'web'], { cwd: dir });
    expect(status.code, status.output).toBe(0);
    const hint = /`(deploy [^`]*unlock[^`]*)`/.exec(status.stdout)?.[1];
    expect(hint, status.stdout).toBe('deploy -c staging.yml unlock web');
    expect((await runCli(hint!.split(' ').slice(1), { cwd: dir })).code).toBe(0);
    expect(fs.existsSync(path.join(deployPath, '.deploy/lock'))).toBe(false);
  });

  it('hints printed after -c with a space and a quote in the path run as printed, by /bin/sh', async () => {
    const dir = path.join(suite.work, 'odd-config');
    writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n' });
    const deployPath = path.join(dir, 'srv');
    const config = "ops dir/it's.yml";
    fs.mkdirSync(path.join(dir, 'ops dir'));
    // Not deploy.yml, and none in the directory the hints run in: a hint without -c fails.
    fs.renameSync(
      writeConfig(dir, {
        application: 'odd-config',
        source: path.join(dir, 'app'),
        tasks: { hello: ['echo hi'] },
        hosts: { web: sshHost(suite.server, deployPath) },
      }),
      path.join(dir, config),
    );
    /** The printed command (the first backticked `deploy …` matching `pattern`), run as /bin/sh splits it. */
    const runPrinted = async (text: string, pattern: RegExp) => {
      const command = [...text.matchAll(/`(deploy [^`]*)`/g)].map((m) => m[1]!).find((c) => pattern.test(c));
      expect(command, text).toBeDefined();
      const words = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${command!}`], { encoding: 'utf8' })
        .split('\0')
        .slice(0, -1);
      expect(words.slice(0, 3)).toEqual(['deploy', '-c', config]);
      return runCli(words.slice(1), { cwd: dir });
    };

    // ETASK with nothing deployed: its hint deploys.
    const task = await runCli(['-c', config, 'task', 'hello', 'web'], { cwd: dir });
    expect(task.code, task.output).toBe(1);
    const first = await runPrinted(task.stderr, / web$/);
    expect(first.code, first.output).toBe(0);
    expect(fs.existsSync(path.join(deployPath, 'current'))).toBe(true);

    // ENOROLLBACK with one release: its hint lists the releases.
    const rollback = await runCli(['-c', config, 'rollback', 'web'], { cwd: dir });
    expect(rollback.code, rollback.output).not.toBe(0);
    const releases = await runPrinted(rollback.stderr, / releases/);
    expect(releases.code, releases.output).toBe(0);
    expect(releases.stdout).toContain(fs.readdirSync(path.join(deployPath, 'releases'))[0]);
    expect(fs.existsSync(path.join(dir, 'deploy.yml'))).toBe(false);
  });

  it('ENOCONFIG says what fits the reason: the -c file and `init` to create it, permissions, a directory', async () => {
    const dir = path.join(suite.work, 'no-config');
    writeTree(dir, { 'index.html': 'hi\n', 'conf/.keep': '' });
    const missing = await runCli(['-c', 'staging.yml', 'hosts'], { cwd: dir });
    expect(missing.code, missing.output).toBe(2);
    const init = /`(deploy [^`]*init)`/.exec(missing.stderr)?.[1];
    expect(init, missing.stderr).toBe('deploy -c staging.yml init');
    expect((await runCli(init!.split(' ').slice(1), { cwd: dir })).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'staging.yml'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'deploy.yml'))).toBe(false);

    const directory = await runCli(['-c', 'conf', 'hosts'], { cwd: dir });
    expect(directory.code, directory.output).toBe(2);
    expect(directory.stderr).toContain('hint: conf is a directory');
    expect(directory.stderr).not.toContain('Create');

    // Root reads any file, and the suite runs as root in CI: the table's wording for EACCES, read directly.
    const denied = new DeployError('ENOCONFIG', { file: 'staging.yml', reason: 'EACCES' });
    expect(denied.hint).toMatch(/^This user may not read staging\.yml: fix the permissions/);
  });
});
