import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll } from 'vitest';
import { tmpDir, writeTree } from './project.js';
import { startSshd, type SshdOptions, type SshdServer } from './sshd.js';

/** What a test file gets from useSshd. */
export interface SshdFixture {
  server: SshdServer;
  /** The file's temporary directory, for its projects and deploy paths. */
  work: string;
  /** `work/home`, empty: as HOME, the developer's own keys, agent and ssh config take no part. */
  home: string;
}

export interface SshdFixtureOptions {
  /**
   * Commands the server's sessions find first on their PATH (name -> shell script), written from
   * `work` so they can read flag files there: a fault of the server, not a mock of SSH.
   */
  fakes?: (work: string) => Record<string, string>;
  sshd?: SshdOptions;
  /** Starts the server (default startSshd; e.g. startRealSshd for the real-server profile). */
  start?: (options: SshdOptions) => Promise<SshdServer>;
}

/**
 * A test file's own sshd and temporary directory: made before its tests, and after them the
 * server stopped and the directory removed, whatever the tests did. The returned object is filled
 * in before the first test; `ready` receives it too (most files keep module-level `server` and
 * `work` variables).
 */
export function useSshd(
  prefix: string,
  ready?: (fx: SshdFixture) => void,
  options: SshdFixtureOptions = {},
): SshdFixture {
  const fx = {} as SshdFixture;
  beforeAll(async () => {
    fx.work = tmpDir(prefix);
    fx.home = path.join(fx.work, 'home');
    fs.mkdirSync(fx.home);
    const env = options.fakes
      ? { ...options.sshd?.env, PATH: pathWith(path.join(fx.work, 'fakebin'), options.fakes(fx.work)) }
      : options.sshd?.env;
    fx.server = await (options.start ?? startSshd)({ ...options.sshd, env });
    ready?.(fx);
  });
  afterAll(async () => {
    await fx.server?.stop();
    if (fx.work) fs.rmSync(fx.work, { recursive: true, force: true });
  });
  return fx;
}

/** Writes each script as an executable in `bin` and returns a PATH that finds them first. */
function pathWith(bin: string, scripts: Record<string, string>): string {
  writeTree(
    bin,
    Object.fromEntries(Object.entries(scripts).map(([name, content]) => [name, { content, mode: 0o755 }])),
  );
  return `${bin}:/usr/local/bin:/usr/bin:/bin`;
}

/** An ssh-agent listening on `sock` and holding `keyFile`; the caller stops it (kill the child). */
export async function startAgent(sock: string, keyFile: string): Promise<ChildProcess> {
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  const env = { ...process.env, SSH_AUTH_SOCK: sock };
  // The socket file exists once the agent has bound it, a moment before it listens: wait until it
  // answers (`ssh-add -l` exits 1, "no identities", instead of 2, "cannot connect").
  const answers = () => [0, 1].includes(spawnSync('ssh-add', ['-l'], { env }).status ?? 2);
  for (let i = 0; i < 1000 && !answers(); i++) await delay(10);
  execFileSync('ssh-add', [keyFile], { env, stdio: 'ignore' });
  return agent;
}

/** A copy of the private key `keyFile` at `to`, encrypted with `passphrase`. */
export function encryptedKey(keyFile: string, to: string, passphrase: string): string {
  fs.copyFileSync(keyFile, to);
  execFileSync('ssh-keygen', ['-q', '-p', '-N', passphrase, '-f', to]);
  return to;
}

/** ssh_config lines that reach `server` under the pattern `host` (HostName may be another address). */
export const sshConfigHost = (host: string, server: SshdServer, hostName = server.host): string[] => [
  `Host ${host}`,
  `  HostName ${hostName}`,
  `  Port ${server.port}`,
  `  User ${server.user}`,
  `  IdentityFile ${server.identityFile}`,
];
