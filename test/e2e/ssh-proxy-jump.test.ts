import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releasesOf, runCli, sshProject, tmpDir } from '../support/project.js';
import { sshConfigHost } from '../support/sshd-fixture.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

/*
 * Proof that the target is reachable only through the bastion: two network namespaces that
 * this test creates and removes.
 *
 *   test process ── veth 169.254.A.1 ⇄ .2 ── [ns bastion: sshd] ── veth 169.254.B.1 ⇄ .2 ── [ns target: sshd]
 *
 * The host namespace has no address or route in 169.254.B.0/30, and a new namespace does not
 * forward packets, so only the bastion's sshd (a process inside the bastion namespace) can open
 * a TCP connection to the target. Link-local addresses keep stray packets off any real network.
 */
const sfx = randomBytes(3).toString('hex');
const NS_BASTION = `shipB-${sfx}`;
const NS_TARGET = `shipT-${sfx}`;
const octet = 200 + randomInt(25) * 2;
const NET_A = `169.254.${octet}`;
const NET_B = `169.254.${octet + 1}`;

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

function createNamespaces(): void {
  ip('netns', 'add', NS_BASTION);
  ip('netns', 'add', NS_TARGET);
  ip('link', 'add', `hb${sfx}`, 'type', 'veth', 'peer', 'name', `bh${sfx}`, 'netns', NS_BASTION);
  ip(
    '-n',
    NS_BASTION,
    'link',
    'add',
    `bt${sfx}`,
    'type',
    'veth',
    'peer',
    'name',
    `tb${sfx}`,
    'netns',
    NS_TARGET,
  );
  ip('addr', 'add', `${NET_A}.1/30`, 'dev', `hb${sfx}`);
  ip('link', 'set', `hb${sfx}`, 'up');
  for (const [ns, dev, addr] of [
    [NS_BASTION, `bh${sfx}`, `${NET_A}.2/30`],
    [NS_BASTION, `bt${sfx}`, `${NET_B}.1/30`],
    [NS_TARGET, `tb${sfx}`, `${NET_B}.2/30`],
  ] as const) {
    ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
}

function removeNamespaces(): void {
  // Deleting a namespace deletes its veth ends, and with them the peers in the host namespace.
  for (const ns of [NS_BASTION, NS_TARGET]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* never created */
    }
  }
}

let bastion: SshdServer;
let target: SshdServer;
let work: string;
let home: string;
let sshConfig: string;
/** Host keys of the target and of the bastion under both names it is reached by. */
let knownHosts: string;

beforeAll(async () => {
  work = tmpDir('shipshape-jump-');
  home = path.join(work, 'home');
  fs.mkdirSync(home);
  createNamespaces();
  // The bastion also listens on its own loopback, an address only a hop inside its namespace can use.
  bastion = await startSshd({
    netns: NS_BASTION,
    listenAddress: `${NET_A}.2`,
    extraConfig: ['ListenAddress 127.0.0.1'],
  });
  target = await startSshd({ netns: NS_TARGET, listenAddress: `${NET_B}.2` });
  sshConfig = path.join(work, 'ssh_config');
  fs.writeFileSync(
    sshConfig,
    [
      ...sshConfigHost('bastion', bastion),
      ...sshConfigHost('bastion-loopback', bastion, '127.0.0.1'),
      '',
    ].join('\n'),
  );
  knownHosts = path.join(work, 'known_hosts');
  fs.writeFileSync(
    knownHosts,
    [
      fs.readFileSync(target.knownHostsFile, 'utf8').trim(),
      fs.readFileSync(bastion.knownHostsFile, 'utf8').trim(),
      `[127.0.0.1]:${bastion.port} ${bastion.hostPublicKey}`,
      '',
    ].join('\n'),
  );
}, 60_000);

afterAll(async () => {
  await target?.stop();
  await bastion?.stop();
  removeNamespaces();
  fs.rmSync(work, { recursive: true, force: true });
});

const env = () => ({ HOME: home, SSH_AUTH_SOCK: '', SSH_PRIVATE_KEY: '', SSH_KNOWN_HOSTS: '' });

function project(name: string, hostExtra: Record<string, unknown>) {
  return sshProject(
    target,
    work,
    name,
    { 'index.html': `${name}\n` },
    { config: { ssh_config_file: sshConfig }, host: { known_hosts_file: knownHosts, ...hostExtra } },
  );
}

/** Resolves with the error code, or 'timeout' when nothing answers within a few seconds. */
function tryTcp(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(3000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('ProxyJump through a bastion, target reachable only from inside the bastion namespace', () => {
  it('cannot reach the target directly, neither by TCP nor by a deploy without proxy_jump', async () => {
    expect(await tryTcp(target.host, target.port)).not.toBe('connected');
    expect(await tryTcp(bastion.host, bastion.port)).toBe('connected');

    const { deployPath, file } = project('direct', { connect_timeout: 2 });
    const r = await runCli(['-c', file, 'web'], { env: env() });
    expect(r.code, r.output).toBe(5);
    expect(r.stderr).toContain(`ECONNECT: web: cannot connect to ${target.host}:${target.port}`);
    expect(fs.existsSync(deployPath)).toBe(false);
  });

  it('deploys through proxy_jump, and the target sees the connection coming from the bastion', async () => {
    const { deployPath, file } = project('jump', { proxy_jump: 'bastion' });
    const r = await runCli(['-c', file, 'web'], { env: env() });
    expect(r.code, r.output).toBe(0);
    expect(releasesOf(deployPath)).toHaveLength(1);
    expect(fs.readFileSync(target.logFile, 'utf8')).toMatch(
      new RegExp(`Connection from ${NET_B.replace(/\./g, '\\.')}\\.1 port`),
    );
  });

  it('chains several hops (`a,b`), each over the previous one’s forwarded channel', async () => {
    const { deployPath, file } = project('two-hops', { proxy_jump: 'bastion,bastion-loopback' });
    const loginsBefore = await bastion.connections();
    const r = await runCli(['-c', file, 'web'], { env: env() });
    expect(r.code, r.output).toBe(0);
    expect(releasesOf(deployPath)).toHaveLength(1);
    expect(await bastion.connections()).toBe(loginsBefore + 2);
    expect(fs.readFileSync(bastion.logFile, 'utf8')).toMatch(/Connection from 127\.0\.0\.1 port/);
  });

  it('verifies every hop: an unknown bastion key stops before anything reaches the target', async () => {
    const targetOnly = path.join(work, 'known_hosts_target_only');
    fs.writeFileSync(targetOnly, fs.readFileSync(target.knownHostsFile));
    const { deployPath, file } = project('hop-key', { proxy_jump: 'bastion', known_hosts_file: targetOnly });
    const execsBefore = await target.execRequests();
    const r = await runCli(['-c', file, 'web'], { env: env() });
    expect(r.code, r.output).toBe(5);
    expect(r.stderr).toContain('EHOSTKEY: bastion (jump host for web): unknown host key');
    expect(await target.execRequests()).toBe(execsBefore);
    expect(fs.existsSync(deployPath)).toBe(false);
  });
});
