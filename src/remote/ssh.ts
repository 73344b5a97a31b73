import { NodeSSH, type Config as NodeSshConfig } from 'node-ssh';
import { DeployError } from '../definitions/errors.js';
import { quote } from './sh.js';
import { readPgid, type ExecRequest, type ExecResult, type Transport } from './transport.js';

export type SshConnectOptions = NodeSshConfig & { alias: string };

/** One node-ssh connection per host; every stage of the run execs over it. */
export class SshTransport implements Transport {
  readonly kind = 'ssh' as const;
  execCount = 0;
  private lost = false;

  private constructor(
    private readonly ssh: NodeSSH,
    readonly alias: string,
  ) {
    ssh.connection?.on('close', () => (this.lost = true));
    ssh.connection?.on('error', () => (this.lost = true));
  }

  static async connect(options: SshConnectOptions): Promise<SshTransport> {
    const ssh = new NodeSSH();
    const { alias, ...config } = options;
    try {
      await ssh.connect(config);
    } catch (e) {
      throw classifyConnectError(alias, config, e);
    }
    return new SshTransport(ssh, alias);
  }

  get isConnected(): boolean {
    return !this.lost && this.ssh.isConnected();
  }

  async exec({ script, stdin, signal, onStderr }: ExecRequest): Promise<ExecResult> {
    if (!this.isConnected) throw new DeployError('ECONNLOST', { host: this.alias, stage: 'exec' });
    this.execCount++;
    let stderrSoFar = '';
    const onAbort = () => void this.killGroup(readPgid(stderrSoFar));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // The login shell of the remote user runs the command; `sh -c` pins the dialect to POSIX sh.
      const res = await this.ssh.execCommand(`exec /bin/sh -c ${quote(script)}`, {
        stdin,
        noTrim: true,
        onStderr: (c) => {
          const text = c.toString();
          stderrSoFar += text;
          onStderr?.(text);
        },
      });
      if (signal?.aborted) throw new DeployError('EINTERRUPTED', { signal: String(signal.reason) });
      if (res.code === null && !this.isConnected) {
        throw new DeployError('ECONNLOST', { host: this.alias, stage: 'exec' });
      }
      return { code: res.code, stdout: res.stdout, stderr: res.stderr };
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Kills what an aborted script left running; its channel closing alone would orphan it. */
  private async killGroup(pgid: number | undefined): Promise<void> {
    if (!pgid || !this.isConnected) return;
    this.execCount++;
    await this.ssh.execCommand(`kill -TERM -- -${pgid} 2>/dev/null; exit 0`).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.ssh.dispose();
  }
}

function classifyConnectError(alias: string, config: NodeSshConfig, e: unknown): DeployError {
  if (e instanceof DeployError) return e;
  const err = e as NodeJS.ErrnoException & { level?: string };
  const address = `${config.host}:${config.port ?? 22}`;
  const msg = err.message ?? String(e);
  if (err.level === 'client-authentication' || /authentication methods failed/i.test(msg)) {
    const tried = [
      config.privateKey || config.privateKeyPath ? 'publickey (identity file)' : '',
      config.agent ? 'agent' : '',
    ]
      .filter(Boolean)
      .join(', ');
    return new DeployError('EAUTH', { host: alias, tried: tried || 'none' });
  }
  const advice: Record<string, string> = {
    ECONNREFUSED: 'Nothing listens there: check port and that sshd runs.',
    ETIMEDOUT: 'No answer: check the address, firewalls and connect_timeout.',
    ENOTFOUND: 'The name does not resolve: check hostname.',
    EAI_AGAIN: 'DNS lookup failed: check hostname and your resolver.',
    EHOSTUNREACH: 'No route to host: check the network.',
  };
  const timedOut = /timed out/i.test(msg);
  return new DeployError('ECONNECT', {
    host: alias,
    address,
    reason: err.code ?? msg,
    advice: advice[err.code ?? (timedOut ? 'ETIMEDOUT' : '')],
  });
}
