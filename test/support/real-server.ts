import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { sshHost, writeConfig, writeTree } from './project.js';
import { describeNeeding } from './requirements.js';
import { hasOpenSsh, startSshd, type SshdOptions, type SshdServer } from './sshd.js';

/**
 * The way production runs: a non-root deploy user logs in over the test sshd, the app runs as
 * another user in a group it shares with the deploy user, and the kernel's hard-link protection
 * is on (`fs.protected_hardlinks=1`, Debian's default). Creating the users needs root, which CI
 * has; on a developer's machine without it the suites that need this profile say so and skip
 * (test/support/requirements.ts).
 */
export const DEPLOY_USER = 'shipshape-deploy';
export const APP_USER = 'shipshape-app';
export const APP_GROUP = 'shipshape-www';

const HARDLINKS = '/proc/sys/fs/protected_hardlinks';

/** Why the profile cannot run here, or undefined when it can. */
function realServerUnavailable(): string | undefined {
  if (process.getuid?.() !== 0)
    return 'the tests do not run as root, so they cannot create the deploy and app users';
  if (!hasOpenSsh) return 'OpenSSH (sshd) is not installed';
  for (const tool of ['useradd', 'groupadd', 'setpriv', 'setfacl', 'sqlite3']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  if (readHardlinkProtection() !== '1') {
    // Debian's default; a container may have it off. Turn it on, as a real server has it.
    spawnSync('sysctl', ['-q', '-w', 'fs.protected_hardlinks=1']);
    if (readHardlinkProtection() !== '1') return `${HARDLINKS} is not 1 and cannot be set`;
  }
  return undefined;
}

const readHardlinkProtection = (): string => {
  try {
    return fs.readFileSync(HARDLINKS, 'utf8').trim();
  } catch {
    return 'unreadable';
  }
};

/** `describe` for a suite that needs the profile: fails in CI, skipped elsewhere, when it cannot run. */
export function describeRealServer(name: string, body: () => void): void {
  describeNeeding(realServerUnavailable(), name, body);
}

let usersReady = false;

/** Creates the group and both users once per machine; several test files may race to do it. */
function ensureUsers(): void {
  if (usersReady) return;
  // Exit code 9: the name exists already (another test process won the race).
  const idempotent = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0 && r.status !== 9) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  };
  idempotent('groupadd', ['-f', APP_GROUP]);
  for (const user of [DEPLOY_USER, APP_USER]) {
    if (spawnSync('id', ['-u', user]).status === 0) continue;
    // A real home: sshd changes into it, and prints an error on every command when it is missing.
    // `-p '*'`: no password, but not locked: sshd refuses a locked account even for a key.
    idempotent('useradd', ['-m', '-g', APP_GROUP, '-s', '/bin/sh', '-p', '*', user]);
  }
  usersReady = true;
}

export const uidOf = (user: string): number => Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }));

/** The test sshd, logging in as the deploy user. */
export async function startRealSshd(options: Omit<SshdOptions, 'user'> = {}): Promise<SshdServer> {
  ensureUsers();
  return startSshd({ ...options, user: DEPLOY_USER });
}

/** A real-server suite's sshd, started before its tests, and its projects' roots, removed after them. */
export interface RealSuite {
  server: SshdServer;
  roots: { cleanup(): void }[];
}

/** Registers the suite's beforeAll and afterAll; `server` is set once the suite's tests run. */
export function realSuite(options: Omit<SshdOptions, 'user'> = {}): RealSuite {
  const suite = { roots: [] } as unknown as RealSuite;
  beforeAll(async () => {
    suite.server = await startRealSshd(options);
  });
  afterAll(async () => {
    await suite.server?.stop();
    for (const r of suite.roots) r.cleanup();
  });
  return suite;
}

/**
 * A temporary root the deploy user can reach, with `server/` owned by it (the deploy path's
 * parent is prepared by an administrator on a real server, as `deploy setup` expects).
 */
export function realRoot(prefix = 'shipshape-real-'): { root: string; deployPath: string; cleanup(): void } {
  ensureUsers();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(root, 0o755);
  const deployPath = path.join(root, 'server');
  fs.mkdirSync(deployPath);
  execFileSync('chown', [`${DEPLOY_USER}:${APP_GROUP}`, deployPath]);
  return { root, deployPath, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/**
 * A project of a real-server suite: the app under `app/`, deploy.yml for one host `web` with the
 * real-server writable settings, `config` on top; its root is cleaned up with the suite's `roots`.
 */
export function realProject(
  suite: RealSuite,
  application: string,
  config: Record<string, unknown>,
  files: Record<string, string>,
  prefix?: string,
) {
  const r = realRoot(prefix);
  suite.roots.push(r);
  const source = path.join(r.root, 'app');
  writeTree(source, files);
  const file = writeConfig(r.root, {
    application,
    source: 'app',
    ...realWritable,
    hosts: { web: sshHost(suite.server, r.deployPath) },
    ...config,
  });
  const live = () => fs.readlinkSync(path.join(r.deployPath, 'current')).replace(/^releases\//, '');
  return { ...r, source, file, live };
}

/** `setpriv` arguments that run `script` with /bin/sh as `user` (in the app group), `args` as `$1`, `$2` … */
const asUser = (user: string, script: string, args: readonly string[]): string[] => [
  '--reuid',
  user,
  '--regid',
  APP_GROUP,
  '--init-groups',
  '--',
  '/bin/sh',
  '-c',
  script,
  'sh',
  ...args,
];
const sessionEnv = { PATH: process.env.PATH, HOME: '/' };

/**
 * Runs a shell script as `user` (the app, or the deploy user editing by hand); `args` are its
 * `$1`, `$2`, … so odd file names need no quoting. Throws on failure.
 */
export function runAs(user: string, script: string, args: string[] = []): string {
  return execFileSync('setpriv', asUser(user, `umask 022; ${script}`, args), {
    cwd: '/',
    encoding: 'utf8',
    env: sessionEnv,
  });
}

/** The same as runAs, left running in the background: a process of the app that outlives deploys. */
export function startAs(user: string, script: string, args: string[] = []): ChildProcess {
  return spawn('setpriv', asUser(user, `umask 022; ${script}`, args), {
    cwd: '/',
    env: sessionEnv,
    stdio: 'ignore',
  });
}

/** Writes bytes to a new file at `file` as `user`, creating its directory; false when the user may not. */
export function writeAs(user: string, file: string, bytes: Buffer): boolean {
  const script = 'umask 002; mkdir -p -- "${1%/*}" 2>/dev/null && set -C && cat > "$1"';
  return (
    spawnSync('setpriv', asUser(user, script, [file]), { cwd: '/', input: bytes, env: sessionEnv }).status ===
    0
  );
}

/** The same as runAs, returning the exit status and output instead of throwing. */
export function tryAs(user: string, script: string): { status: number | null; output: string } {
  const r = spawnSync('setpriv', asUser(user, script, []), { cwd: '/', encoding: 'utf8', env: sessionEnv });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/**
 * The same as tryAs for a local user in none of the profile's groups (`nobody`), who must not read
 * what the deploy keeps for the app.
 */
export function tryAsOutsider(script: string): { status: number | null; output: string } {
  const args = ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', '--', '/bin/sh', '-c', script];
  const r = spawnSync('setpriv', args, { cwd: '/', encoding: 'utf8', env: sessionEnv });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Settings every real-server deploy.yml shares: the app user gets write access by ACL. */
export const realWritable = { writable_mode: 'acl', writable_user: APP_USER } as const;
