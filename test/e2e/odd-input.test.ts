import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { prepareDeploy } from '../../src/engine/deploy.js';
import { hookBook } from '../../src/engine/hooks.js';
import { MemoryReporter } from '../../src/engine/reporter.js';
// duplicates: the same support imports as hostile-server.test.ts (both e2e files of odd input).
import {
  cliArgv,
  releasesOf,
  runCli,
  sshHost,
  writeConfig,
  writeTree,
  type CliResult,
} from '../support/project.js';
import { useSshd } from '../support/sshd-fixture.js';

/**
 * What an unlucky user has: odd names, odd permissions, an odd path. Each ends in a clear error
 * (code, message, what to do) or just works; never a stack trace.
 */
const suite = useSshd('shipshape-odd-');

const NO_CI = { GITHUB_ACTIONS: '', GITLAB_CI: '' };
/** A stack trace's frames, as Node prints them. */
const STACK = /^\s+at .+[:(]/m;

function expectClean(r: CliResult, code: number, error: string) {
  expect(r.code, r.output).toBe(code);
  expect(r.output).toContain(`error ${error}`);
  expect(r.output).toMatch(/^hint: /m);
  expect(r.output).not.toMatch(STACK);
}

describe('odd input', () => {
  it('a deploy_path with a backslash works, first deploy and incremental', async () => {
    const dir = path.join(suite.work, 'backslash');
    writeTree(path.join(dir, 'app'), { 'index.html': 'v1\n', 'css/site.css': 'a{}\n' });
    const deployPath = path.join(dir, 'srv\\app');
    const file = writeConfig(dir, {
      application: 'bs',
      source: 'app',
      hosts: { web: sshHost(suite.server, deployPath) },
    });
    expect((await runCli(['-c', file, 'web'], { env: NO_CI })).code).toBe(0);
    fs.writeFileSync(path.join(dir, 'app/index.html'), 'v2\n');
    const second = await runCli(['-c', file, 'web'], { env: NO_CI });
    expect(second.code, second.output).toBe(0);
    expect(fs.readFileSync(path.join(deployPath, 'current/index.html'), 'utf8')).toBe('v2\n');
    expect(fs.readFileSync(path.join(deployPath, 'current/css/site.css'), 'utf8')).toBe('a{}\n');
    expect(releasesOf(deployPath)).toHaveLength(2);
    // Nothing was written under the path tar used to make of it (`srvapp`).
    expect(fs.existsSync(path.join(dir, 'srvapp'))).toBe(false);
  });

  it('a file name that is not UTF-8 is named, byte by byte, in a clean error', async () => {
    const dir = path.join(suite.work, 'latin1');
    writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n' });
    fs.mkdirSync(path.join(dir, 'app/docs'));
    fs.writeFileSync(Buffer.from(`${dir}/app/docs/caf\xe9.txt`, 'latin1'), 'menu\n');
    const deployPath = path.join(dir, 'srv');
    const file = writeConfig(dir, {
      application: 'l1',
      source: 'app',
      hosts: { web: sshHost(suite.server, deployPath) },
    });
    const r = await runCli(['-c', file, 'web'], { env: NO_CI });
    expectClean(r, 1, 'ESOURCE');
    expect(r.output).toContain('docs/caf\\xe9.txt: its name is not valid UTF-8');
    expect(r.output).toContain('Rename it to a UTF-8 name');
    expect(releasesOf(deployPath)).toEqual([]);
    expect(fs.existsSync(path.join(deployPath, '.deploy/lock'))).toBe(false);
  });

  it('a known_hosts_file that is a directory is a clean error before anything is sent', async () => {
    const dir = path.join(suite.work, 'kh');
    writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n' });
    fs.mkdirSync(path.join(dir, 'known_hosts.d'));
    const deployPath = path.join(dir, 'srv');
    const host = sshHost(suite.server, deployPath, { known_hosts_file: path.join(dir, 'known_hosts.d') });
    const file = writeConfig(dir, { application: 'kh', source: 'app', hosts: { web: host } });
    const execs = await suite.server.execRequests();
    const r = await runCli(['-c', file, 'web'], { env: NO_CI });
    expectClean(r, 2, 'EKNOWNHOSTS');
    expect(r.output).toContain(
      `known_hosts file ${path.join(dir, 'known_hosts.d')} cannot be read: it is a directory`,
    );
    expect(await suite.server.execRequests()).toBe(execs);
  });

  it('an unreadable directory in the source is a clean error (run as a user who cannot read it)', async () => {
    const dir = path.join(suite.work, 'eacces');
    writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n', 'private/key.pem': 'x\n' });
    fs.chmodSync(path.join(dir, 'app/private'), 0o700);
    fs.mkdirSync(path.join(dir, 'out'), { mode: 0o777 });
    fs.chmodSync(path.join(dir, 'out'), 0o777);
    for (const d of [suite.work, dir]) fs.chmodSync(d, 0o755);
    const file = writeConfig(dir, {
      application: 'eacces',
      source: 'app',
      hosts: { here: { local: true, deploy_path: './out/target' } },
    });
    fs.chmodSync(file, 0o644);
    // As root nothing is unreadable: the CLI runs as nobody, which cannot read app/private.
    const r = await new Promise<CliResult>((resolve) => {
      const child = spawn(
        'setpriv',
        ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ...cliArgv(['-c', file, 'here'])],
        {
          env: { ...process.env, ...NO_CI, CI: 'true', HOME: '/tmp' },
        },
      );
      let [stdout, stderr] = ['', ''];
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, output: stdout + stderr }));
    });
    expectClean(r, 1, 'ESOURCE');
    expect(r.output).toContain('private: cannot be read for the upload (EACCES)');
    expect(r.output).toContain('Fix the permissions of that file');
    expect(releasesOf(path.join(dir, 'out/target'))).toEqual([]);
  });

  it('a local deploy_path that resolves inside `source`, or to a system directory, is a config error', async () => {
    const dir = path.join(suite.work, 'inside');
    writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n' });
    fs.symlinkSync(path.join(dir, 'app'), path.join(dir, 'app-link'));
    const depth = dir.split('/').length - 1;
    const file = writeConfig(dir, {
      application: 'inside',
      source: 'app',
      hosts: {
        a: { local: true, deploy_path: './app/releases-here' },
        b: { local: true, deploy_path: './app-link/target' },
        c: { local: true, deploy_path: `${'../'.repeat(depth)}etc` },
        ok: { local: true, deploy_path: './target' },
      },
    });
    const r = await runCli(['-c', file, 'ok'], { env: NO_CI });
    expectClean(r, 2, 'ECONFIG');
    expect(r.output).toMatch(/hosts\.a\.deploy_path: resolves to \S+\/app\/releases-here, inside `source`/);
    expect(r.output).toMatch(/hosts\.b\.deploy_path: resolves to \S+\/app\/target, inside `source`/);
    expect(r.output).toContain('hosts.c.deploy_path: resolves to /etc, a system directory');
    expect(fs.existsSync(path.join(dir, 'target'))).toBe(false);
  });

  it('a 2 GiB sparse file gets a warning that it is sent at its full size', async () => {
    const dir = path.join(suite.work, 'sparse');
    writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n' });
    execFileSync('truncate', ['-s', '2G', path.join(dir, 'app/disk.img')]);
    const file = writeConfig(dir, {
      application: 'sp',
      source: 'app',
      hosts: { here: { local: true, deploy_path: './t' } },
    });
    const loaded = loadConfig(file, {});
    const reporter = new MemoryReporter();
    await prepareDeploy(loaded, hookBook(loaded.config, []), reporter, {});
    expect(reporter.events).toContainEqual(
      expect.stringMatching(
        /^warn disk\.img is a sparse file of 2\.1 GB with 0 bytes on disk: .* at its full size/,
      ),
    );
  });
});
