import type { Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import ssh2, { type Client, type ConnectConfig } from 'ssh2';
import { DeployError } from '../definitions/errors.js';
import type { AuthPlan } from '../ssh/auth.js';
import type { ConnectOptions } from '../ssh/connect-options.js';
import type { HostVerifier } from '../ssh/host-verifier.js';
import { quote } from './sh.js';
import { readPgid, type ExecRequest, type ExecResult, type Transport } from './transport.js';

/** ssh2 declares a peer dead after this many unanswered keepalives (OpenSSH's ServerAliveCountMax). */
const KEEPALIVE_COUNT_MAX = 3;
const LOST_GRACE_MS = 1000;
const PGID_WAIT_MS = 2000;
/** What node-ssh's pipe may queue on a channel before it waits for ssh2 to take it. */
const STDIN_QUEUE_BYTES = 1 << 16;

/**
 * ssh2 lets a channel queue 2 MiB of written data while it waits for the server's window.
 * An upload's pieces waited there long enough to outlive two scavenges, were promoted, and
 * piled up in old space until a full collection (up to 64 MB at 40,000 files on a slow
 * link). The queue's limit is only reachable through the stream's state.
 */
function limitQueue(channel: object): void {
  const state = (channel as { _writableState?: { highWaterMark?: number } })._writableState;
  if (state && typeof state.highWaterMark === 'number') state.highWaterMark = STDIN_QUEUE_BYTES;
}

/** Everything one SSH hop needs: where, how to authenticate, which key to trust, and an optional tunnel. */
export interface SshLink {
  options: ConnectOptions;
  verifier: HostVerifier;
  auth: AuthPlan;
  /** A channel forwarded by the previous hop (ProxyJump); absent for a direct TCP connection. */
  sock?: Duplex;
  /** How messages name this hop: the alias, or `bastion (jump host for web)`. */
  label: string;
}

/** Opens one ssh2 client; every failure becomes ECONNECT, EAUTH or EHOSTKEY naming the hop. */
export function openClient(link: SshLink): Promise<Client> {
  const { options, verifier, auth, sock } = link;
  const config: ConnectConfig = {
    host: options.host,
    port: options.port,
    username: options.username,
    ...(sock ? { sock } : {}),
    // With agentForward in the connect config ssh2 asks for forwarding on every channel it opens.
    ...(options.agent ? { agent: options.agent, agentForward: options.agentForward } : {}),
    authHandler: auth.authHandler,
    hostVerifier: (key: Buffer) => verifier.verify(key),
    ...(verifier.hostKeyAlgorithms
      ? { algorithms: { serverHostKey: verifier.hostKeyAlgorithms as never } }
      : {}),
    readyTimeout: options.readyTimeout,
    keepaliveInterval: options.keepaliveInterval,
    keepaliveCountMax: KEEPALIVE_COUNT_MAX,
  };
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(classifyConnectError(link, e));
    };
    client.on('error', fail);
    client.on('close', () => fail(new Error('the server closed the connection during the handshake')));
    client.on('ready', () => {
      settled = true;
      client.removeListener('error', fail);
      resolve(client);
    });
    client.connect(config);
    // Without it every exec request after the first waited ~40 ms: Nagle's algorithm held the
    // small request back until the server's delayed ACK of the previous one (measured 44 ms
    // against 3 ms per exec on loopback). A socket not yet connected keeps the setting for later.
    client.setNoDelay(true);
  });
}

/** Asks `via` to open a TCP channel to the next hop, as `ssh -J` does with a direct-tcpip channel. */
export function forwardTo(via: Client, viaLabel: string, next: SshLink): Promise<Duplex> {
  const { host, port } = next.options;
  return new Promise((resolve, reject) => {
    via.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      if (!err) return resolve(stream);
      reject(
        new DeployError('ECONNECT', {
          host: next.label,
          address: `${host}:${port}`,
          reason: `jump host ${viaLabel} could not open a channel: ${err.message}`,
          advice: `Check that ${viaLabel} can reach ${host}:${port} (e.g. \`ssh ${viaLabel} nc -zv ${host} ${port}\`) and that its sshd allows TCP forwarding.`,
        }),
      );
    });
  });
}

export interface SshTransportOptions {
  /** Jump host connections under this one; closed with it. */
  jumps?: Client[];
}

/** One SSH connection per host; every stage of the run execs over it. */
export class SshTransport implements Transport {
  readonly kind = 'ssh' as const;
  private lost = false;
  private readonly ssh = new NodeSSH();

  constructor(
    readonly client: Client,
    readonly alias: string,
    private readonly options: SshTransportOptions = {},
  ) {
    this.ssh.connection = client;
    client.on('close', () => (this.lost = true));
    client.on('error', () => (this.lost = true));
    for (const jump of options.jumps ?? []) jump.on('close', () => (this.lost = true));
  }

  get isConnected(): boolean {
    return !this.lost && this.ssh.isConnected();
  }

  async exec({ script, stdin, signal, onStderr }: ExecRequest): Promise<ExecResult> {
    if (!this.isConnected) throw this.lostError();
    let stderrSoFar = '';
    const onAbort = () => void this.killGroup(readPgid(stderrSoFar));
    signal?.addEventListener('abort', onAbort, { once: true });
    // node-ssh pipes stdin without an error listener: a source failing mid-stream (a file changed
    // or unreadable while packing) would crash the process. Close the channel and fail this exec.
    let stdinError: unknown;
    let channel: { close(): void } | undefined;
    const onStdinError = (e: unknown) => {
      stdinError = e;
      if (channel) stdin?.unpipe(channel as never);
      // Kill first: closing the channel first would hand the script an early EOF, and it would go on.
      // The script's first line reports its process group; a fast failure may come before it.
      void this.pgidOf(() => stderrSoFar)
        .then((pgid) => this.killGroup(pgid))
        .finally(() => channel?.close());
    };
    stdin?.once('error', onStdinError);
    try {
      // The login shell of the remote user runs the command; `sh -c` pins the dialect to POSIX sh.
      const res = await this.ssh.execCommand(`exec /bin/sh -c ${quote(script)}`, {
        stdin,
        noTrim: true,
        onChannel: (c) => {
          channel = c;
          limitQueue(c);
          if (stdinError !== undefined) c.close();
        },
        onStderr: (c) => {
          const text = c.toString();
          stderrSoFar += text;
          onStderr?.(text);
        },
      });
      if (stdinError !== undefined) throw stdinError;
      if (signal?.aborted) throw new DeployError('EINTERRUPTED', { signal: String(signal.reason) });
      // A dropped connection closes the channel (no exit code) a moment before the client
      // itself reports 'close'; wait for that so a lost link is not mistaken for a killed command.
      if (res.code === null && this.isConnected) await this.closedWithin(LOST_GRACE_MS);
      if (res.code === null && !this.isConnected) throw this.lostError();
      return { code: res.code, stdout: res.stdout, stderr: res.stderr };
    } catch (e) {
      if (e instanceof DeployError || e === stdinError) throw e;
      if (!this.isConnected) throw this.lostError();
      throw e;
    } finally {
      stdin?.off('error', onStdinError);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Runs `command` with a pty wired to this process's terminal; resolves with its exit code. */
  shell(command: string, io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream }): Promise<number> {
    const { stdin, stdout } = io;
    return new Promise((resolve, reject) => {
      const pty = { term: process.env.TERM ?? 'xterm', rows: stdout.rows ?? 24, cols: stdout.columns ?? 80 };
      this.client.exec(command, { pty }, (err, channel) => {
        if (err) return reject(err);
        const raw = stdin.isTTY && !stdin.isRaw;
        if (raw) stdin.setRawMode(true);
        const onResize = () => channel.setWindow(stdout.rows ?? 24, stdout.columns ?? 80, 0, 0);
        stdout.on('resize', onResize);
        stdin.pipe(channel);
        channel.pipe(stdout, { end: false });
        channel.stderr.pipe(stdout, { end: false });
        let code = 255;
        channel.on('exit', (c: number | null) => (code = c ?? 255));
        channel.on('close', () => {
          stdin.unpipe(channel);
          if (raw) stdin.setRawMode(false);
          stdin.pause();
          stdout.off('resize', onResize);
          resolve(code);
        });
      });
    });
  }

  private closedWithin(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.client.once('close', done);
    });
  }

  /** The executor, which reads the script's stage markers, adds the stage and whether `current` may have moved. */
  private lostError(): DeployError {
    return new DeployError('ECONNLOST', { host: this.alias });
  }

  private async pgidOf(stderr: () => string): Promise<number | undefined> {
    for (let waited = 0; waited < PGID_WAIT_MS && this.isConnected; waited += 20) {
      const pgid = readPgid(stderr());
      if (pgid) return pgid;
      await new Promise((r) => setTimeout(r, 20));
    }
    return readPgid(stderr());
  }

  /** Kills what an aborted script left running; its channel closing alone would orphan it. */
  private async killGroup(pgid: number | undefined): Promise<void> {
    if (!pgid || !this.isConnected) return;
    await this.ssh.execCommand(`kill -TERM -- -${pgid} 2>/dev/null; exit 0`).catch(() => undefined);
  }

  /** Resolves once the socket is really closed, so a connection limit (`--parallel`) holds exactly. */
  async close(): Promise<void> {
    const closed = this.lost
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.client.once('close', () => resolve());
          setTimeout(resolve, 5_000).unref();
        });
    this.ssh.dispose();
    for (const jump of [...(this.options.jumps ?? [])].reverse()) jump.end();
    await closed;
  }
}

const ADVICE: Record<string, (address: string) => string> = {
  ECONNREFUSED: (a) => `Nothing listens on ${a}: check the port and that sshd runs there.`,
  ETIMEDOUT: (a) => `No answer from ${a}: check the address, firewalls and VPN, or raise connect_timeout.`,
  ENOTFOUND: () => 'The name does not resolve: check hostname (and HostName in your ssh config).',
  EAI_AGAIN: () => 'DNS lookup failed: check hostname and your resolver.',
  EHOSTUNREACH: () => 'No route to host: check the network or VPN.',
  ENETUNREACH: () => 'Network unreachable: check the network or VPN.',
  ECONNRESET: (a) => `${a} dropped the connection: check that it is an SSH server and not blocking you.`,
};

export function classifyConnectError(link: SshLink, e: unknown): DeployError {
  if (link.verifier.failure) return link.verifier.failure;
  if (e instanceof DeployError) return e;
  const err = e as NodeJS.ErrnoException & { level?: string };
  const { host, port } = link.options;
  const address = `${host}:${port}`;
  const msg = err?.message ?? String(e);
  if (err?.level === 'client-authentication' || /authentication methods failed/i.test(msg)) {
    const tried = link.auth.tried.length ? link.auth.tried.join(', ') : 'nothing (no agent, no key file)';
    return new DeployError('EAUTH', {
      host: link.label,
      user: link.options.username,
      address,
      tried,
      skipped: link.auth.skipped.join('; '),
    });
  }
  const timedOut = err?.level === 'client-timeout' || /timed out/i.test(msg);
  const code = err?.code ?? (timedOut ? 'ETIMEDOUT' : undefined);
  const seconds = link.options.readyTimeout / 1000;
  return new DeployError('ECONNECT', {
    host: link.label,
    address,
    reason: timedOut ? `timed out after ${seconds} s` : code ? `${code} (${msg})` : msg,
    advice: code ? ADVICE[code]?.(address) : undefined,
  });
}
