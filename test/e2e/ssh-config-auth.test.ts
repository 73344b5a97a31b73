import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { quote } from '../../src/remote/sh.js';
import { afterAll, describe, expect, it } from 'vitest';
import { cliArgv, releasesOf, runCli, sshHost, writeConfig, writeTree } from '../support/project.js';
import type { SshdServer } from '../support/sshd.js';
import { encryptedKey, sshConfigHost, startAgent, useSshd } from '../support/sshd-fixture.js';

let server: SshdServer;
let work: string;
/** A home with an empty ~/.ssh, so the developer's own keys, agent and config never take part. */
let home: string;
let agent: ChildProcess | undefined;

useSshd('shipshape-sshauth-', (fx) => {
  ({ server, work, home } = fx);
  fs.mkdirSync(path.join(home, '.ssh'));
});

afterAll(() => {
  if (agent?.pid) process.kill(agent.pid, 'SIGTERM');
});

const env = (extra: Record<string, string> = {}) => ({
  HOME: home,
  SSH_AUTH_SOCK: '',
  SSH_PRIVATE_KEY: '',
  SSH_KEY_PASSPHRASE: '',
  ...extra,
});

function project(name: string, hosts: Record<string, unknown>, top: Record<string, unknown> = {}) {
  const dir = path.join(work, name);
  writeTree(path.join(dir, 'app'), { 'index.html': `${name}\n` });
  const file = writeConfig(dir, { application: name, source: 'app', hosts, ...top });
  return { dir, file };
}

/** sshHost without a key: what a host looks like when the agent or ssh config must supply one. */
function keylessHost(deployPath: string, extra: Record<string, unknown> = {}) {
  const { identity_file: _unused, ...host } = sshHost(server, deployPath, extra);
  return host;
}

/**
 * Key queries sshd answered: a publickey request without a signature, "this key would do, now
 * sign" (logged at DEBUG1 as "Postponed publickey for ..." before the client can read the answer).
 */
const keyQueries = () =>
  fs.readFileSync(server.logFile, 'utf8').match(/^Postponed publickey for /gm)?.length ?? 0;

describe('ssh config, agent and key files against a real sshd', () => {
  it('deploys to a host that names only an ssh-config alias', async () => {
    const deployPath = path.join(work, 'alias', 'server');
    const sshConfig = path.join(work, 'alias', 'ssh_config');
    fs.mkdirSync(path.dirname(sshConfig), { recursive: true });
    fs.writeFileSync(
      sshConfig,
      [
        'Host other',
        '  HostName 192.0.2.1',
        '',
        ...sshConfigHost('web-*  !web-db', server),
        `  UserKnownHostsFile ${server.knownHostsFile}`,
        '',
        'Host *',
        '  User nobody-wins-too-late',
        '  Port 1',
        '',
      ].join('\n'),
    );
    const { file } = project(
      'alias',
      { 'web-prod': { deploy_path: deployPath } },
      { ssh_config_file: sshConfig },
    );
    const r = await runCli(['-c', file, 'web-prod'], { env: env() });
    expect(r.code, r.output).toBe(0);
    expect(releasesOf(deployPath)).toHaveLength(1);
  });

  it('deploys with no identity file through an ssh-agent holding the key', async () => {
    const sock = path.join(work, 'agent.sock');
    agent = await startAgent(sock, server.identityFile);

    const deployPath = path.join(work, 'agent', 'server');
    const { file } = project('agent', { web: keylessHost(deployPath) });
    const queries = keyQueries();
    const r = await runCli(['-c', file, 'web'], { env: env({ SSH_AUTH_SOCK: sock }) });
    expect(r.code, r.output).toBe(0);
    expect(releasesOf(deployPath)).toHaveLength(1);
    // An agent may ask its user before each signature: its key is offered first, and signed once taken.
    expect(keyQueries()).toBe(queries + 1);

    // The same host without the agent has nothing to offer.
    const denied = await runCli(['-c', file, 'web'], { env: env() });
    expect(denied.code, denied.output).toBe(5);
    expect(denied.stderr).toContain('EAUTH');
  });

  it('signs with a key file at once, without offering it first (a round trip less), RSA as well as Ed25519', async () => {
    const rsa = path.join(work, 'id_rsa');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', rsa]);
    fs.appendFileSync(path.join(server.dir, 'authorized_keys'), fs.readFileSync(`${rsa}.pub`));
    for (const [name, key] of [
      ['ed25519', server.identityFile],
      ['rsa', rsa],
    ] as const) {
      const deployPath = path.join(work, `at-once-${name}`, 'server');
      const { file } = project(`at-once-${name}`, {
        web: sshHost(server, deployPath, { identity_file: key }),
      });
      const [queries, accepted] = [keyQueries(), await server.connections()];
      const r = await runCli(['-c', file, 'web'], { env: env() });
      expect(r.code, r.output).toBe(0);
      expect(await server.connections()).toBe(accepted + 1);
      // The RSA signature carries the hash its algorithm names (rsa-sha2-*): sshd refuses any other.
      expect(keyQueries(), name).toBe(queries);
    }
  });

  it('finds the key in OpenSSH default order (~/.ssh/id_ed25519) when nothing names one', async () => {
    const ownHome = path.join(work, 'default-home');
    fs.mkdirSync(path.join(ownHome, '.ssh'), { recursive: true });
    fs.copyFileSync(server.identityFile, path.join(ownHome, '.ssh', 'id_ed25519'));
    const deployPath = path.join(work, 'default', 'server');
    const { file } = project('default', { web: keylessHost(deployPath) });
    const r = await runCli(['-c', file, 'web'], { env: env({ HOME: ownHome }) });
    expect(r.code, r.output).toBe(0);
    expect(releasesOf(deployPath)).toHaveLength(1);
  });

  it('opens an encrypted key with SSH_KEY_PASSPHRASE, and says why it skipped it without one', async () => {
    const key = encryptedKey(server.identityFile, path.join(work, 'encrypted_key'), 'correct horse');
    const deployPath = path.join(work, 'encrypted', 'server');
    const { file } = project('encrypted', { web: sshHost(server, deployPath, { identity_file: key }) });

    const without = await runCli(['-c', file, 'web'], { env: env() });
    expect(without.code, without.output).toBe(5);
    expect(without.stderr).toContain('EAUTH');
    expect(without.stderr).toContain(`${key}: encrypted; set SSH_KEY_PASSPHRASE`);

    const wrong = await runCli(['-c', file, 'web'], { env: env({ SSH_KEY_PASSPHRASE: 'wrong horse' }) });
    expect(wrong.code, wrong.output).toBe(5);
    expect(wrong.stderr).toContain('SSH_KEY_PASSPHRASE does not open it');

    const ok = await runCli(['-c', file, 'web'], { env: env({ SSH_KEY_PASSPHRASE: 'correct horse' }) });
    expect(ok.code, ok.output).toBe(0);
    expect(releasesOf(deployPath)).toHaveLength(1);
  });

  it('asks for the passphrase of an encrypted key on a terminal, without echoing it', async () => {
    const key = encryptedKey(
      server.identityFile,
      path.join(work, 'encrypted_tty_key'),
      'typed-at-the-prompt',
    );
    const deployPath = path.join(work, 'tty', 'server');
    const { file } = project('tty', { web: sshHost(server, deployPath, { identity_file: key }) });
    const cli = cliArgv(['-c', file, 'web']);
    // script(1) gives the CLI a real terminal on stdin, stdout and stderr.
    const child = spawn('script', ['-qec', cli.map(quote).join(' '), '/dev/null'], {
      env: { ...process.env, ...env(), CI: 'true', FORCE_COLOR: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let answered = false;
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
      if (!answered && output.includes(`Enter passphrase for key '${key}':`)) {
        answered = true;
        child.stdin.write('typed-at-the-prompt\r');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.destroy();
    expect(answered, output).toBe(true);
    expect(code, output).toBe(0);
    expect(output).not.toContain('typed-at-the-prompt');
    expect(releasesOf(deployPath)).toHaveLength(1);
  });

  it('takes SSH_PRIVATE_KEY over key files, even as a one-line secret with literal \\n', async () => {
    const deployPath = path.join(work, 'envkey', 'server');
    const wrongKey = path.join(work, 'unauthorized_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
    const { file } = project('envkey', { web: sshHost(server, deployPath, { identity_file: wrongKey }) });
    const secret = fs.readFileSync(server.identityFile, 'utf8').trim().replace(/\n/g, '\\n');
    const r = await runCli(['-c', file, 'web'], { env: env({ SSH_PRIVATE_KEY: secret }) });
    expect(r.code, r.output).toBe(0);
    expect(releasesOf(deployPath)).toHaveLength(1);
  });

  it('EAUTH names the user, the address and every key it offered', async () => {
    const wrongKey = path.join(work, 'unauthorized_key2');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
    const deployPath = path.join(work, 'denied', 'server');
    const { file } = project('denied', { web: sshHost(server, deployPath, { identity_file: wrongKey }) });
    const execsBefore = await server.execRequests();
    const r = await runCli(['-c', file, 'web'], { env: env() });
    expect(r.code, r.output).toBe(5);
    expect(r.stderr).toContain(
      `authentication as ${server.user} at ${server.host}:${server.port} failed (tried: publickey ${wrongKey})`,
    );
    expect(r.stderr).toMatch(/hint: .*ssh-add/);
    expect(await server.execRequests()).toBe(execsBefore);
  });
});
