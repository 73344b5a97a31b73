import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { releasesOf, runCli, sshProject, writeConfig, writeTree } from '../support/project.js';
import { useSshd } from '../support/sshd-fixture.js';

/** Settings that weaken a deploy say so on every run; failures say what to do, for every host. */
const suite = useSshd('shipshape-insecure-');

const NO_CI = { GITHUB_ACTIONS: '', GITLAB_CI: '' };

const project = (name: string, host: Record<string, unknown>, config: Record<string, unknown> = {}) =>
  sshProject(suite.server, suite.work, name, { 'index.html': 'hi\n' }, { config, host });

describe('insecure settings', () => {
  it('host_key_checking: off warns on every run, not only the first', async () => {
    const p = project('off', { host_key_checking: 'off' });
    for (const run of [1, 2]) {
      const r = await runCli(['-c', p.file, 'web'], { env: NO_CI });
      expect(r.code, r.output).toBe(0);
      expect(r.output, `run ${run}`).toMatch(
        /warn: host key checking is off for web \(host_key_checking: off in deploy\.yml\)/,
      );
    }
    expect(releasesOf(p.deployPath)).toHaveLength(2);
  });

  // duplicates: one ssh config line per test, and the warning it must give; alike in shape only.
  it('StrictHostKeyChecking no from the ssh config warns, naming the ssh config', async () => {
    const sshConfig = path.join(suite.work, 'ssh_config_no');
    fs.writeFileSync(sshConfig, 'Host web\n  StrictHostKeyChecking no\n');
    const p = project('config-no', {}, { ssh_config_file: sshConfig });
    const r = await runCli(['-c', p.file, 'web'], { env: NO_CI });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain(
      'host key checking is off for web (StrictHostKeyChecking no in the ssh config)',
    );
  });

  it('a ProxyCommand says it is ignored, and the deploy connects directly', async () => {
    const sshConfig = path.join(suite.work, 'ssh_config_proxy');
    fs.writeFileSync(sshConfig, 'Host web\n  ProxyCommand ssh -W %h:%p bastion.invalid\n');
    const p = project('proxy', {}, { ssh_config_file: sshConfig });
    const r = await runCli(['-c', p.file, 'web'], { env: NO_CI });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('warn: ProxyCommand in the ssh config is ignored for web');
    expect(r.output).toContain('use ProxyJump, or proxy_jump in deploy.yml');
  });

  it('a revoked host key: the hint never suggests trusting that key again', async () => {
    const knownHosts = path.join(suite.work, 'known_hosts_revoked');
    fs.writeFileSync(
      knownHosts,
      `@revoked [${suite.server.host}]:${suite.server.port} ${suite.server.hostPublicKey}\n`,
    );
    const p = project('revoked', { known_hosts_file: knownHosts });
    const r = await runCli(['-c', p.file, 'web'], { env: NO_CI });
    expect(r.code, r.output).toBe(5);
    expect(r.output).toContain('error EHOSTKEY: web: revoked host key');
    expect(r.output).toContain('hint: Do not trust this key again');
    expect(r.output).not.toMatch(/ssh-keyscan|>> /);
    expect(releasesOf(p.deployPath)).toEqual([]);
  });
});

describe('several hosts failing', () => {
  it('each gets its own error printed, the run’s headline last', async () => {
    const dir = path.join(suite.work, 'two');
    writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n' });
    const at = (a: string) => path.join(dir, 'servers', a);
    // b has the required shared file; a does not. b's hook before `shared` fails.
    writeTree(at('b'), { 'shared/.env': 'X=1\n' });
    const file = writeConfig(dir, {
      application: 'two',
      source: 'app',
      shared_files: ['.env'],
      hosts: { a: { local: true, deploy_path: at('a') }, b: { local: true, deploy_path: at('b') } },
      hooks: { before: { shared: [{ run: 'echo broken on b >&2; exit 4', hosts: ['b'] }] } },
    });
    const r = await runCli(['-c', file, 'a', 'b'], { env: NO_CI });
    expect(r.code, r.output).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error '));
    // Before: only the worst (a's) was printed, and b's reason was nowhere but in --json.
    expect(errors).toEqual([
      expect.stringMatching(/^error ESTAGE: b: stage `before:shared` failed \(exit 4\)/),
      `error ESHAREDMISSING: a: required shared files are missing: .env (expected in ${at('a')}/shared/)`,
    ]);
    expect(r.stderr).toContain('broken on b');
  });
});
