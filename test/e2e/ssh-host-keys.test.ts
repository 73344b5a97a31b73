import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { releasesOf, runCli, sshHost, writeConfig, writeTree } from '../support/project.js';
import type { SshdServer } from '../support/sshd.js';
import { useSshd } from '../support/sshd-fixture.js';

let server: SshdServer;
let work: string;
/** A home with nothing in ~/.ssh, so the developer's own keys and known_hosts never take part. */
let home: string;

useSshd('shipshape-hostkeys-', (fx) => ({ server, work, home } = fx));

const env = () => ({ HOME: home, SSH_AUTH_SOCK: '', SSH_KNOWN_HOSTS: '' });

function project(name: string, hostExtra: Record<string, unknown>) {
  const dir = path.join(work, name);
  writeTree(path.join(dir, 'app'), { 'index.html': 'hello\n' });
  const deployPath = path.join(dir, 'server');
  const file = writeConfig(dir, {
    application: name,
    source: 'app',
    hosts: { web: sshHost(server, deployPath, hostExtra) },
  });
  return { dir, deployPath, file };
}

const knownHostsWith = (dir: string, content: string): string => {
  const file = path.join(dir, 'known_hosts');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, content);
  return file;
};

/** What `ssh-keygen -lf` prints for the server's public key: `256 SHA256:… comment (ED25519)`. */
const serverFingerprint = () =>
  execFileSync('ssh-keygen', ['-lf', `${server.hostKeyFile}.pub`], { encoding: 'utf8' }).split(' ')[1]!;

/** Another ed25519 public key, standing in for a server that was re-keyed (or impersonated). */
function otherKey(dir: string): string {
  const file = path.join(dir, 'other_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  return fs.readFileSync(`${file}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
}

const entryName = () => `[${server.host}]:${server.port}`;

describe('host key verification against a real sshd', () => {
  it('refuses an unknown key with EHOSTKEY, the ssh-keygen fingerprint and the keyscan hint, running nothing', async () => {
    const dir = path.join(work, 'unknown');
    const knownHosts = knownHostsWith(dir, '');
    const { deployPath, file } = project('unknown', { known_hosts_file: knownHosts });
    const [execsBefore, loginsBefore] = [await server.execRequests(), await server.connections()];

    const r = await runCli(['-c', file, 'web'], { env: env() });

    expect(r.code, r.output).toBe(5);
    expect(r.stderr).toContain('EHOSTKEY');
    expect(r.stderr).toContain(`unknown host key for ${server.host} port ${server.port}`);
    expect(r.stderr).toContain(serverFingerprint());
    expect(r.stderr).toContain(`ssh-keyscan -p ${server.port} ${server.host} >> ${knownHosts}`);
    expect(await server.execRequests()).toBe(execsBefore);
    expect(await server.connections()).toBe(loginsBefore);
    expect(fs.readFileSync(knownHosts, 'utf8')).toBe('');
    expect(fs.existsSync(deployPath)).toBe(false);
  });

  it('the keyscan hint is a command that works as printed: a known_hosts path with a space is quoted', async () => {
    const dir = path.join(work, 'spaced', 'My Keys');
    const knownHosts = knownHostsWith(dir, '');
    const { file } = project('spaced', { known_hosts_file: knownHosts });
    const r = await runCli(['-c', file, 'web'], { env: env() });
    expect(r.code, r.output).toBe(5);
    const hint = /`(ssh-keyscan [^`]*)`/.exec(r.stderr)?.[1];
    expect(hint, r.stderr).toBe(`ssh-keyscan -p ${server.port} ${server.host} >> '${knownHosts}'`);
    // Run as a person pastes it: the key goes into that file, and no other file is made.
    execFileSync('sh', ['-c', hint!], { stdio: 'ignore' });
    expect(fs.readFileSync(knownHosts, 'utf8')).toContain(server.hostPublicKey.split(' ')[1]!);
    expect(fs.readdirSync(path.dirname(dir)).sort()).toEqual(['My Keys', 'deploy.yml', 'app'].sort());
    const again = await runCli(['-c', file, 'web'], { env: env() });
    expect(again.code, again.output).toBe(0);
  });

  it('refuses a changed key, also with accept-new, and names the file to fix', async () => {
    const dir = path.join(work, 'changed');
    fs.mkdirSync(dir);
    const knownHosts = knownHostsWith(dir, `${entryName()} ${otherKey(dir)}\n`);
    for (const mode of ['strict', 'accept-new']) {
      const { deployPath, file } = project(`changed-${mode}`, {
        known_hosts_file: knownHosts,
        host_key_checking: mode,
      });
      const execsBefore = await server.execRequests();
      const r = await runCli(['-c', file, 'web'], { env: env() });
      expect(r.code, r.output).toBe(5);
      expect(r.stderr).toContain('EHOSTKEY');
      expect(r.stderr).toContain('changed host key');
      expect(r.stderr).toContain(serverFingerprint());
      expect(r.stderr).toContain(`ssh-keygen -R '${entryName()}'`);
      expect(await server.execRequests()).toBe(execsBefore);
      expect(fs.existsSync(deployPath)).toBe(false);
    }
    expect(fs.readFileSync(knownHosts, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('accept-new records exactly one OpenSSH line, then refuses a changed key', async () => {
    const dir = path.join(work, 'accept');
    const knownHosts = path.join(dir, 'ssh', 'known_hosts');
    const { deployPath, file } = project('accept', {
      known_hosts_file: knownHosts,
      host_key_checking: 'accept-new',
    });

    const first = await runCli(['-c', file, 'web'], { env: env() });
    expect(first.code, first.output).toBe(0);
    expect(releasesOf(deployPath)).toHaveLength(1);
    const [type, key] = server.hostPublicKey.split(' ');
    expect(fs.readFileSync(knownHosts, 'utf8')).toBe(`${entryName()} ${type} ${key}\n`);
    expect(first.output).toContain('permanently added the host key');
    // OpenSSH itself finds the line it would have written.
    expect(execFileSync('ssh-keygen', ['-F', entryName(), '-f', knownHosts], { encoding: 'utf8' })).toContain(
      key,
    );

    const second = await runCli(['-c', file, 'web'], { env: env() });
    expect(second.code, second.output).toBe(0);
    expect(fs.readFileSync(knownHosts, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);

    fs.writeFileSync(knownHosts, `${entryName()} ${otherKey(dir)}\n`);
    const changed = await runCli(['-c', file, 'web'], { env: env() });
    expect(changed.code, changed.output).toBe(5);
    expect(changed.stderr).toContain('changed host key');
    expect(releasesOf(deployPath)).toHaveLength(2);
  });

  it('accepts a hashed known_hosts entry for [127.0.0.1]:PORT', async () => {
    const dir = path.join(work, 'hashed');
    const knownHosts = knownHostsWith(dir, fs.readFileSync(server.knownHostsFile, 'utf8'));
    execFileSync('ssh-keygen', ['-H', '-f', knownHosts], { stdio: 'ignore' });
    const text = fs.readFileSync(knownHosts, 'utf8');
    expect(text.startsWith('|1|')).toBe(true);
    expect(text).not.toContain(server.host);

    const { deployPath, file } = project('hashed', { known_hosts_file: knownHosts });
    const r = await runCli(['-c', file, 'web'], { env: env() });
    expect(r.code, r.output).toBe(0);
    expect(releasesOf(deployPath)).toHaveLength(1);
  });

  it('trusts known_hosts lines from SSH_KNOWN_HOSTS (CI) when the files do not know the host', async () => {
    const dir = path.join(work, 'env');
    const knownHosts = knownHostsWith(dir, '');
    const { deployPath, file } = project('env', { known_hosts_file: knownHosts });
    const r = await runCli(['-c', file, 'web'], {
      env: { ...env(), SSH_KNOWN_HOSTS: fs.readFileSync(server.knownHostsFile, 'utf8') },
    });
    expect(r.code, r.output).toBe(0);
    expect(releasesOf(deployPath)).toHaveLength(1);
    expect(fs.readFileSync(knownHosts, 'utf8')).toBe('');
  });

  it('strict by default: without known_hosts_file the empty ~/.ssh/known_hosts knows nothing', async () => {
    const { deployPath, file } = project('default', { known_hosts_file: undefined });
    const r = await runCli(['-c', file, 'web'], { env: env() });
    expect(r.code, r.output).toBe(5);
    expect(r.stderr).toContain('EHOSTKEY');
    expect(r.stderr).toContain(`>> ${home}/.ssh/known_hosts`);
    expect(fs.existsSync(deployPath)).toBe(false);
  });
});
