import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { NodeSSH } from 'node-ssh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasOpenSsh, startSsh2Server, startSshd, type SshdServer } from '../support/sshd.js';

const execFileAsync = promisify(execFile);

/** The OpenSSH client, kept away from the user's ~/.ssh/config (a ControlMaster there would reuse connections). */
function runSsh(server: SshdServer, command: string) {
  return execFileAsync('ssh', [
    '-F',
    '/dev/null',
    '-i',
    server.identityFile,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${server.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-p',
    String(server.port),
    `${server.user}@${server.host}`,
    command,
  ]);
}

async function connect(server: SshdServer): Promise<NodeSSH> {
  const hostKey = Buffer.from(server.hostPublicKey.split(' ')[1]!, 'base64');
  const ssh = await new NodeSSH().connect({
    host: server.host,
    port: server.port,
    username: server.user,
    privateKeyPath: server.identityFile,
    hostVerifier: (key: Buffer) => key.equals(hostKey),
  });
  // stop() resets open connections: the tests assert the close, and the reset must not surface as an uncaught error.
  ssh.connection!.on('error', () => undefined);
  return ssh;
}

// duplicates: the negation of sshd.ts's canConnect, kept here so the harness is tested from outside.
function refusesConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Checks both server kinds must pass. */
function describeServer(name: string, start: () => Promise<SshdServer>, kind: SshdServer['kind']) {
  describe(name, () => {
    let server: SshdServer;
    beforeAll(async () => {
      server = await start();
    });
    afterAll(() => server?.stop());

    it('describes itself', () => {
      expect(server.kind).toBe(kind);
      expect(server.port).toBeGreaterThan(0);
      expect(existsSync(`${server.hostKeyFile}.pub`)).toBe(true);
      expect(server.hostPublicKey).toMatch(/^ssh-ed25519 \S+/);
    });

    it('accepts the OpenSSH client with strict host key checking', async () => {
      const [execs, conns] = [await server.execRequests(), await server.connections()];

      const { stdout } = await runSsh(server, 'echo hi; echo $HOME');

      expect(stdout).toBe(`hi\n${server.dir}/home\n`);
      expect(await server.execRequests()).toBe(execs + 1);
      expect(await server.connections()).toBe(conns + 1);
    });

    it('runs commands for node-ssh: output, exit code, stdin', async () => {
      const [execs, conns] = [await server.execRequests(), await server.connections()];
      const ssh = await connect(server);
      try {
        const home = await ssh.execCommand('echo "$HOME"; echo oops >&2; exit 3');
        expect(home).toMatchObject({ code: 3, stdout: `${server.dir}/home`, stderr: 'oops' });

        const piped = await ssh.execCommand('tr a-z A-Z', { stdin: 'piped in\n' });
        expect(piped).toMatchObject({ code: 0, stdout: 'PIPED IN' });
      } finally {
        ssh.dispose();
      }
      expect(await server.execRequests()).toBe(execs + 2);
      expect(await server.connections()).toBe(conns + 1);
    });

    it('accepts many connections at once', async () => {
      const clients = await Promise.all(Array.from({ length: 20 }, () => connect(server)));
      try {
        const results = await Promise.all(clients.map((ssh, i) => ssh.execCommand(`echo ${i}`)));
        expect(results.map((r) => r.stdout)).toEqual(clients.map((_, i) => String(i)));
      } finally {
        for (const ssh of clients) ssh.dispose();
      }
    });
  });
}

describeServer('startSshd', startSshd, hasOpenSsh ? 'openssh' : 'ssh2');
describeServer('startSsh2Server', startSsh2Server, 'ssh2');

describe.each([
  ['startSshd', startSshd],
  ['startSsh2Server', startSsh2Server],
])('%s stop()', (_, start) => {
  it('stops listening and removes its directory', async () => {
    const server = await start();
    await server.stop();

    expect(existsSync(server.dir)).toBe(false);
    expect(await refusesConnections(server.host, server.port)).toBe(true);
  });

  it('drops open connections', async () => {
    const server = await start();
    const ssh = await connect(server);
    const closed = new Promise<void>((resolve) => ssh.connection!.on('close', () => resolve()));

    await server.stop();

    await closed;
    expect(ssh.isConnected()).toBe(false);
  });
});
