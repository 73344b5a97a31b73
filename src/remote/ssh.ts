import type { Duplex, Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { Client as SshClient } from '../ssh/ssh2-parts.js';
import { DeployError } from '../definitions/errors.js';
import type { AuthPlan } from '../ssh/auth.js';
import type { ConnectOptions } from '../ssh/connect-options.js';
import type { HostVerifier } from '../ssh/host-verifier.js';
import { signKeyFilesAtOnce } from '../ssh/publickey-at-once.js';
import { deliverScript, endMark, scriptReader } from './script-stdin.js';
import { sh, type ShellText } from './sh.js';
import { readPgid, type ExecRequest, type ExecResult, type Transport } from './transport.js';

/** ssh2 declares a peer dead after this many unanswered keepalives (OpenSSH's ServerAliveCountMax). */
const KEEPALIVE_COUNT_MAX = 3;
const LOST_GRACE_MS = 1000;
const PGID_WAIT_MS = 2000;
/** How much of stdin may wait in a channel's queue before the next piece is read. */
const STDIN_QUEUE_BYTES = 1 << 16;

/**
 * Writes `head` and then all of `stdin` into the channel, and ends it. ssh2 lets a channel
 * queue 2 MiB while it waits for the server's window: an upload's pieces waited there long
 * enough to outlive two scavenges, were promoted, and piled up in old space until a full
 * collection (up to 64 MB at 40,000 files on a slow link). So at most STDIN_QUEUE_BYTES are
 * written ahead of what ssh2 has sent, counted by each write's callback: Writable's public API
 * (a pipe would honour only the channel's own 2 MiB limit, settable only through the stream's
 * private `_writableState`). Stops quietly when the channel closes: the script exited early,
 * and its exit code tells why.
 */
async function feed(channel: ClientChannel, head: Buffer, stdin: Readable | undefined): Promise<void> {
  let queued = 0;
  let closed = false;
  let wake = () => {};
  channel.once('close', () => {
    closed = true;
    wake();
  });
  const put = async (chunk: Buffer) => {
    queued += chunk.length;
    channel.write(chunk, () => {
      queued -= chunk.length;
      wake();
    });
    while (queued > STDIN_QUEUE_BYTES && !closed) await new Promise<void>((resolve) => (wake = resolve));
  };
  await put(head);
  if (stdin) {
    for await (const chunk of stdin) {
      if (closed) break;
      await put(chunk as Buffer);
    }
  }
  if (!closed) channel.end();
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
    const client = new SshClient();
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
    signKeyFilesAtOnce(client);
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

interface ChannelResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An exec channel opened before its script exists, and the end mark its reader waits for. */
interface OpenedAhead {
  end: string;
  channel: Promise<{ channel: ClientChannel; isOpen: () => boolean }>;
}

/** One SSH connection per host; every stage of the run execs over it. */
export class SshTransport implements Transport {
  readonly kind = 'ssh' as const;
  private lost = false;
  private closing = false;
  private ahead?: OpenedAhead;

  constructor(
    readonly client: Client,
    readonly alias: string,
    private readonly options: SshTransportOptions = {},
  ) {
    client.on('close', () => (this.lost = true));
    client.on('error', () => (this.lost = true));
    for (const jump of options.jumps ?? []) jump.on('close', () => (this.lost = true));
  }

  get isConnected(): boolean {
    return !this.lost && !this.closing;
  }

  async exec({ script, stdin, signal, onStderr, followedBy }: ExecRequest): Promise<ExecResult> {
    if (!this.isConnected) throw this.lostError();
    const ahead = this.ahead;
    this.ahead = undefined;
    const { bootstrap, head } = deliverScript(script, ahead?.end);
    // The login shell of the remote user runs the command; `sh -c` pins the dialect to POSIX sh.
    const command = sh`exec /bin/sh -c ${bootstrap.text}`;
    // This script's own channel is asked for before the next phase's, and at once: the server
    // answers in order, and a run's first phase (none is open ahead for it) waited a round trip
    // more when the next phase's channel went first.
    const opening = ahead ? this.takeAhead(ahead, command) : this.openChannel(command);
    if (followedBy) this.openAhead();
    let stderrSoFar = '';
    const onAbort = () => void this.killGroup(readPgid(stderrSoFar));
    signal?.addEventListener('abort', onAbort, { once: true });
    // A source that fails mid-stream (a file changed or unreadable while packing) fails this exec.
    let stdinError: unknown;
    const input = (channel: ClientChannel) =>
      feed(channel, head, stdin).catch(async (e: unknown) => {
        stdinError = e;
        // Kill first: closing the channel first would hand the script an early EOF, and it would
        // go on. The script's first line reports its process group; a fast failure may come first.
        await this.killGroup(await this.pgidOf(() => stderrSoFar)).finally(() => channel.close());
      });
    try {
      const res = await this.run(opening, {
        input,
        onStderr: (text) => {
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
      return res;
    } catch (e) {
      if (e instanceof DeployError || e === stdinError) throw e;
      if (!this.isConnected) throw this.lostError();
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Opens the channel of the next script now, while this one runs: its channel-open and exec
   * round trips are then off the next phase's path (at a distance, two of the three round trips
   * an exec costs). The shell it starts waits on stdin for a script (remote/script-stdin.ts);
   * one never used sees its stdin end when the connection closes, and exits.
   */
  private openAhead(): void {
    const end = endMark();
    const channel = this.openChannel(sh`exec /bin/sh -c ${scriptReader(end).text}`).then((c) => {
      let open = true;
      c.once('close', () => (open = false));
      return { channel: c, isOpen: () => open };
    });
    // Not used yet: a failure here is the next exec's to meet (it then opens a channel itself).
    channel.catch(() => undefined);
    this.ahead = { end, channel };
  }

  private openChannel(command: ShellText): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      try {
        this.client.exec(command.text, (err, channel) => (err ? reject(err) : resolve(channel)));
      } catch (e) {
        // ssh2 throws at once when the connection is already gone.
        reject(e);
      }
    });
  }

  /** The channel opened ahead for a script; one that failed or closed meanwhile is replaced. */
  private async takeAhead(ahead: OpenedAhead, command: ShellText): Promise<ClientChannel> {
    const early = await ahead.channel.catch(() => undefined);
    // The replacement runs the same reader, waiting for a script with the same end mark.
    return early?.isOpen() ? early.channel : this.openChannel(command);
  }

  /**
   * One exec channel, once `opening` has it: `input` writes its stdin (none: closed at once);
   * stdout is decoded once it is complete and stderr as a stream, so a character split between
   * two packets stays whole. Resolves when the channel closes; the code is null when no exit
   * status came (killed, or cut).
   */
  private async run(
    opening: Promise<ClientChannel>,
    o: { input?: (c: ClientChannel) => Promise<void>; onStderr?: (text: string) => void } = {},
  ): Promise<ChannelResult> {
    const channel = await opening;
    return new Promise((resolve) => {
      const stdout: Buffer[] = [];
      let stderr = '';
      const decoder = new StringDecoder('utf8');
      const addStderr = (text: string) => {
        if (text === '') return;
        stderr += text;
        o.onStderr?.(text);
      };
      let code: number | null = null;
      channel.on('data', (c: Buffer) => stdout.push(c));
      channel.stderr.on('data', (c: Buffer) => addStderr(decoder.write(c)));
      channel.on('exit', (c: unknown) => (code = typeof c === 'number' ? c : null));
      channel.on('close', () => {
        addStderr(decoder.end());
        resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr });
      });
      if (o.input) void o.input(channel);
      else channel.end();
    });
  }

  /** Runs `command` with a pty wired to this process's terminal; resolves with its exit code. */
  shell(command: ShellText, io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream }): Promise<number> {
    const { stdin, stdout } = io;
    return new Promise((resolve, reject) => {
      const pty = { term: process.env.TERM ?? 'xterm', rows: stdout.rows ?? 24, cols: stdout.columns ?? 80 };
      this.client.exec(command.text, { pty }, (err, channel) => {
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

  /**
   * Kills what an aborted script left running; its channel closing alone would orphan it.
   * `-s TERM --`, not `-TERM --`: the login shell runs this line, and dash (Debian's /bin/sh, a
   * deploy user's shell) reads `--` after `-TERM` as a pid, "Illegal number", and kills nothing.
   */
  private async killGroup(pgid: number | undefined): Promise<void> {
    if (!pgid || !this.isConnected) return;
    await this.run(this.openChannel(sh`kill -s TERM -- -${pgid} 2>/dev/null; exit 0`)).catch(() => undefined);
  }

  /** Resolves once the socket is really closed, so a connection limit (`--parallel`) holds exactly. */
  async close(): Promise<void> {
    const closed = this.lost
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.client.once('close', () => resolve());
          setTimeout(resolve, 5_000).unref();
        });
    this.closing = true;
    this.client.end();
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

function classifyConnectError(link: SshLink, e: unknown): DeployError {
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
