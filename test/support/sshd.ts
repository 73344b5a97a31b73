import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import ssh2, { type Connection, type ServerChannel } from 'ssh2';

export interface SshdOptions {
  /** extra sshd_config lines appended (OpenSSH only; the ssh2 fallback ignores them) */
  extraConfig?: string[];
  /** environment of every session (values without spaces); HOME is the harness's clean home */
  env?: Record<string, string>;
  /** bind address, default 127.0.0.1 */
  listenAddress?: string;
  /** run sshd inside this network namespace (`ip netns exec`); OpenSSH only, the caller creates it */
  netns?: string;
  /**
   * log in as this (non-root) user instead of the one running the tests; OpenSSH only, and the
   * tests must run as root. The harness's files are then made readable to that user.
   */
  user?: string;
  /**
   * the sessions' umask (octal, e.g. '027'), as pam_umask or login.defs' UMASK sets it on a server;
   * OpenSSH only: sshd starts with it and every session inherits it
   */
  umask?: string;
}

export interface SshdServer {
  host: string;
  port: number;
  user: string;
  /** temp dir holding everything (keys, config, log, home); removed by stop() */
  dir: string;
  /** client private key (ed25519, no passphrase) authorized for `user` */
  identityFile: string;
  /** server private host key (ed25519); `${hostKeyFile}.pub` exists */
  hostKeyFile: string;
  /** the host key's .pub line, trimmed */
  hostPublicKey: string;
  /** known_hosts with the line for `[host]:port` */
  knownHostsFile: string;
  /** server log; the ssh2 fallback writes nothing to it */
  logFile: string;
  kind: 'openssh' | 'ssh2';
  /** number of "exec" channel requests seen so far */
  execRequests(): Promise<number>;
  /** number of authenticated connections so far */
  connections(): Promise<number>;
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';
const SETPRIV = '/usr/bin/setpriv';
const START_TIMEOUT_MS = 10_000;

export const hasOpenSsh: boolean = existsSync(SSHD);

const execFileAsync = promisify(execFile);

/** A real OpenSSH sshd when installed; otherwise, outside CI, an in-process ssh2 server with the same API. */
export async function startSshd(options: SshdOptions = {}): Promise<SshdServer> {
  if (hasOpenSsh) return startOpenSsh(options);
  if (options.user) throw new Error(`logging in as ${options.user} needs OpenSSH (${SSHD} was not found)`);
  if (options.umask) throw new Error(`a session umask needs OpenSSH (${SSHD} was not found)`);
  if (process.env.CI) {
    throw new Error(`OpenSSH is required in CI: ${SSHD} was not found (install openssh-server).`);
  }
  return startSsh2Server(options);
}

// --- shared layout ---------------------------------------------------------------------------------------

interface Layout {
  dir: string;
  home: string;
  identityFile: string;
  hostKeyFile: string;
  authorizedKeysFile: string;
  knownHostsFile: string;
  configFile: string;
  logFile: string;
}

/**
 * Root's real ~/.bashrc runs `pyenv init` (0.6 s per remote command), and bash sources `$HOME/.bashrc`
 * for every command sshd runs; sessions get this empty home instead.
 */
async function makeLayout(user?: string): Promise<Layout> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shipshape-sshd-'));
  const home = path.join(dir, 'home');
  await mkdir(home);
  await Promise.all([writeFile(path.join(home, '.bashrc'), ''), writeFile(path.join(home, '.profile'), '')]);
  if (user) {
    // sshd reads authorized_keys, and the session its home, as the logged-in user; the private
    // keys stay 0600 to root, so opening the folder reveals nothing.
    await chmod(dir, 0o755);
    await execFileAsync('chown', ['-R', `${user}:`, home]);
  }
  return {
    dir,
    home,
    identityFile: path.join(dir, 'id_ed25519'),
    hostKeyFile: path.join(dir, 'ssh_host_ed25519_key'),
    authorizedKeysFile: path.join(dir, 'authorized_keys'),
    knownHostsFile: path.join(dir, 'known_hosts'),
    configFile: path.join(dir, 'sshd_config'),
    logFile: path.join(dir, 'sshd.log'),
  };
}

async function writeKnownHosts(layout: Layout, host: string, port: number, hostPublicKey: string) {
  const pattern = port === 22 ? host : `[${host}]:${port}`;
  await writeFile(layout.knownHostsFile, `${pattern} ${hostPublicKey}\n`);
}

function serverFields(layout: Layout, user = os.userInfo().username) {
  const { dir, identityFile, hostKeyFile, knownHostsFile, logFile } = layout;
  return { dir, identityFile, hostKeyFile, knownHostsFile, logFile, user };
}

function memoize(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

// --- OpenSSH ---------------------------------------------------------------------------------------------

/*
 * Counted in the DEBUG1 log. Both lines are written before the client can see the result of the
 * request, so a count read after a command returns already includes it.
 *   debug1: server_input_channel_req: channel 0 request exec reply 1
 *   Accepted publickey for root from 127.0.0.1 port 44326 ssh2: ED25519 SHA256:...
 * "Connection from ..." is not counted: it is also logged for the readiness probe's bare TCP connects.
 */
const EXEC_REQUEST_LINE = /^debug1: server_input_channel_req: channel \d+ request exec /gm;
const ACCEPTED_LINE = /^Accepted publickey for /gm;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

async function startOpenSsh(options: SshdOptions): Promise<SshdServer> {
  // Privilege separation dir; when we are not root the mkdir fails and sshd reports what it misses.
  await mkdir('/run/sshd', { recursive: true }).catch(() => undefined);
  const host = options.listenAddress ?? '127.0.0.1';
  const layout = await makeLayout(options.user);
  try {
    await Promise.all([
      sshKeygen(layout.hostKeyFile, 'shipshape-test-host'),
      sshKeygen(layout.identityFile, 'shipshape-test-client'),
    ]);
    await copyFile(`${layout.identityFile}.pub`, layout.authorizedKeysFile);
    if (options.user) await chmod(layout.authorizedKeysFile, 0o644);
    const hostPublicKey = (await readFile(`${layout.hostKeyFile}.pub`, 'utf8')).trim();

    // The free port can be taken between our probe and sshd's bind: retry on a fresh one.
    for (let attempt = 1; ; attempt++) {
      // A fresh namespace has every port free, and its address may not be bindable from here.
      const port = await findFreePort(options.netns ? '127.0.0.1' : host);
      await writeFile(
        layout.configFile,
        sshdConfig(layout, host, port, options.extraConfig ?? [], options.env ?? {}),
      );
      const child = await spawnSshd(layout, options.netns, options.umask);
      try {
        await waitUntilListening(host, port, child, layout.logFile, !!options.netns);
      } catch (e) {
        await terminate(child);
        const portTaken = /Address already in use/.test(await readFile(layout.logFile, 'utf8'));
        if (portTaken && attempt < 3) continue;
        throw e;
      }
      await writeKnownHosts(layout, host, port, hostPublicKey);
      return {
        ...serverFields(layout, options.user),
        host,
        port,
        hostPublicKey,
        kind: 'openssh',
        execRequests: () => countLines(layout.logFile, EXEC_REQUEST_LINE),
        connections: () => countLines(layout.logFile, ACCEPTED_LINE),
        stop: memoize(async () => {
          await terminate(child);
          await rm(layout.dir, { recursive: true, force: true });
        }),
      };
    }
  } catch (e) {
    await rm(layout.dir, { recursive: true, force: true });
    throw e;
  }
}

function sshdConfig(
  layout: Layout,
  host: string,
  port: number,
  extra: string[],
  env: Record<string, string>,
): string {
  return [
    `ListenAddress ${host}`,
    `Port ${port}`,
    `HostKey ${layout.hostKeyFile}`,
    `AuthorizedKeysFile ${layout.authorizedKeysFile}`,
    'PidFile none',
    'LogLevel DEBUG1',
    'StrictModes no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    // sshd uses only the first SetEnv line, so every variable goes on this one.
    `SetEnv ${Object.entries({ HOME: layout.home, ...env })
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    // sshd reads ~/.ssh/rc from the real home (it chdirs to the passwd home, whatever HOME says).
    'PermitUserRC no',
    'Subsystem sftp internal-sftp',
    'MaxSessions 1000',
    'MaxStartups 1000',
    ...extra,
    '',
  ].join('\n');
}

async function sshKeygen(file: string, comment: string): Promise<void> {
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

async function spawnSshd(layout: Layout, netns?: string, umask?: string): Promise<ChildProcess> {
  // -E, not -e: with -e a session child's debug lines, logged after it dup2()s the session's stderr,
  // reach the client as part of the command's stderr. Stderr still goes to the log for anything unlogged.
  const sshdArgs = [
    // exec keeps the pid: stopping the child stops sshd itself.
    ...(umask ? ['/bin/sh', '-c', 'umask "$0" && exec "$@"', umask] : []),
    ...(netns ? ['ip', 'netns', 'exec', netns] : []),
    SSHD,
    '-D',
    '-E',
    layout.logFile,
    '-f',
    layout.configFile,
  ];
  // setpriv's parent-death signal stops sshd even when the test process is SIGKILLed.
  const [command, ...args] = existsSync(SETPRIV)
    ? [SETPRIV, '--pdeathsig', 'SIGTERM', ...sshdArgs]
    : sshdArgs;
  const log = await open(layout.logFile, 'a');
  try {
    const child = spawn(command!, args, { stdio: ['ignore', log.fd, log.fd] });
    track(child);
    return child;
  } finally {
    await log.close();
  }
}

function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  // Each connection's sshd outlives the listener while its client stays connected: stop those first,
  // so stopping the server drops its connections, as a real shutdown would.
  await execFileAsync('pkill', ['-TERM', '-P', String(child.pid)]).catch(() => undefined);
  child.kill('SIGTERM');
  await exited;
}

async function waitUntilListening(
  host: string,
  port: number,
  child: ChildProcess,
  logFile: string,
  /** inside a namespace the address may be unreachable from here: trust sshd's own log line */
  fromLog = false,
) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const status = child.exitCode ?? child.signalCode;
      throw new Error(
        `sshd exited (${status}) before listening on ${host}:${port}.${await logTail(logFile)}`,
      );
    }
    if (
      fromLog ? /^Server listening on /m.test(await readFile(logFile, 'utf8')) : await canConnect(host, port)
    )
      return;
    await delay(25);
  }
  throw new Error(
    `sshd did not listen on ${host}:${port} within ${START_TIMEOUT_MS / 1000} s.${await logTail(logFile)}`,
  );
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function findFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function countLines(file: string, pattern: RegExp): Promise<number> {
  return (await readFile(file, 'utf8')).match(pattern)?.length ?? 0;
}

async function logTail(file: string, lines = 30): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
  return tail ? `\nLast lines of the sshd log:\n${tail}` : ' (the sshd log is empty)';
}

// --- ssh2 fallback ---------------------------------------------------------------------------------------

/**
 * An ed25519 pair ssh2 can read back. About 1 in 256 pairs from ssh2's own generator cannot be
 * parsed by it (mscdex/ssh2 issues 1390 and 1513: a public key starting with a zero byte loses
 * it), which failed this harness now and then with "Malformed OpenSSH private key".
 */
function parseableKeyPair(comment: string): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if (
      !(ssh2.utils.parseKey(pair.private) instanceof Error) &&
      !(ssh2.utils.parseKey(pair.public) instanceof Error)
    )
      return pair;
  }
}

/**
 * In-process server for machines without OpenSSH: publickey auth for `user` with the client key, and
 * `exec` only (no shell, pty or sftp). Each command runs as `/bin/sh -c <command>`.
 */
export async function startSsh2Server(options: SshdOptions = {}): Promise<SshdServer> {
  const host = options.listenAddress ?? '127.0.0.1';
  const layout = await makeLayout();
  const { user } = serverFields(layout);
  // ssh2 generates the keys: where this fallback runs, ssh-keygen may be missing too.
  const hostKey = parseableKeyPair('shipshape-test-host');
  const clientKey = parseableKeyPair('shipshape-test-client');
  await Promise.all([
    writeFile(layout.hostKeyFile, hostKey.private, { mode: 0o600 }),
    writeFile(`${layout.hostKeyFile}.pub`, `${hostKey.public}\n`),
    writeFile(layout.identityFile, clientKey.private, { mode: 0o600 }),
    writeFile(`${layout.identityFile}.pub`, `${clientKey.public}\n`),
    writeFile(layout.authorizedKeysFile, `${clientKey.public}\n`),
    writeFile(layout.logFile, ''),
  ]);
  const authorized = ssh2.utils.parseKey(clientKey.public);
  if (authorized instanceof Error) throw authorized;

  const env = {
    HOME: layout.home,
    USER: user,
    LOGNAME: user,
    SHELL: '/bin/sh',
    // The runner's PATH, not sshd's default: on a dev machine tools often live outside /usr/bin.
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
  };
  const clients = new Set<Connection>();
  const commands = new Set<ChildProcess>();
  let execRequests = 0;
  let connections = 0;

  const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined); // a client that vanishes must not crash the test process
    client.on('authentication', (ctx) => {
      const ok =
        ctx.method === 'publickey' &&
        ctx.username === user &&
        ctx.key.algo === authorized.type &&
        ctx.key.data.equals(authorized.getPublicSSH()) &&
        (!ctx.signature || authorized.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true);
      if (ok) ctx.accept();
      else ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      connections++;
      client.on('session', (acceptSession) => {
        acceptSession().on('exec', (accept, _reject, info) => {
          execRequests++;
          runCommand(info.command, accept(), env, commands);
        });
      });
    });
  });
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await writeKnownHosts(layout, host, port, hostKey.public);

  return {
    ...serverFields(layout),
    host,
    port,
    hostPublicKey: hostKey.public,
    kind: 'ssh2',
    execRequests: async () => execRequests,
    connections: async () => connections,
    stop: memoize(async () => {
      server.close();
      for (const client of clients) client.end();
      for (const command of commands) killGroup(command);
      await rm(layout.dir, { recursive: true, force: true });
    }),
  };
}

function runCommand(
  command: string,
  channel: ServerChannel,
  env: NodeJS.ProcessEnv,
  commands: Set<ChildProcess>,
): void {
  // detached, like sshd's setsid(): the command leads its own process group, so it can be killed as one.
  const child = spawn('/bin/sh', ['-c', command], {
    cwd: os.userInfo().homedir,
    env,
    detached: true,
    stdio: 'pipe',
  });
  commands.add(child);
  channel.on('error', () => undefined);
  child.stdin.on('error', () => undefined); // EPIPE when the command exits without reading its stdin
  channel.pipe(child.stdin);
  child.stdout.pipe(channel, { end: false });
  child.stderr.pipe(channel.stderr, { end: false });
  let finished = false;
  const finish = (exit: () => void) => {
    if (finished) return;
    finished = true;
    commands.delete(child);
    exit();
    channel.end();
  };
  child.on('error', (err) =>
    finish(() => {
      channel.stderr.write(`${err.message}\n`);
      channel.exit(127);
    }),
  );
  child.on('close', (code, signal) =>
    finish(() => (signal ? channel.exit(signal, false, '') : channel.exit(code ?? 255))),
  );
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
