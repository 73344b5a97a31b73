import { spawn } from 'node:child_process';
import { DeployError } from '../definitions/errors.js';
import { deliverScript } from './script-stdin.js';
import type { ExecRequest, ExecResult, Transport } from './transport.js';

/** Runs scripts on this machine with /bin/sh, for `local: true` hosts and fast tests. */
export class LocalTransport implements Transport {
  readonly kind = 'local' as const;

  exec({ script, stdin, signal, onStderr }: ExecRequest): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      // As over SSH: the script goes in on stdin, not as an argument (see script-stdin.ts).
      const { bootstrap, head } = deliverScript(script);
      // detached: the script leads its own process group, so an abort kills all of it.
      const child = spawn('/bin/sh', ['-c', bootstrap.text], {
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (c: Buffer) => out.push(c));
      // Decoded as a stream: a character split between two chunks stays one character.
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (c: string) => {
        err += c;
        onStderr?.(c);
      });
      const onAbort = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      child.stdin.on('error', () => {
        /* the script may exit before reading all of stdin; its exit code tells */
      });
      child.stdin.write(head);
      // A source that fails mid-stream (a file changed or unreadable while packing) must stop the
      // script, which would otherwise wait for the rest of stdin, and fail this exec with that error.
      let stdinError: unknown;
      if (stdin) {
        stdin.once('error', (e) => {
          stdinError = e;
          // Kill before closing stdin: closed first, the script would read end-of-input and go on.
          onAbort();
          stdin.unpipe(child.stdin);
          child.stdin.destroy();
        });
        stdin.pipe(child.stdin);
      } else child.stdin.end();
      child.on('error', (e) => reject(e));
      child.on('close', (code) => {
        signal?.removeEventListener('abort', onAbort);
        if (stdinError !== undefined) return reject(stdinError);
        if (signal?.aborted)
          return reject(new DeployError('EINTERRUPTED', { signal: String(signal.reason) }));
        resolve({ code, stdout: Buffer.concat(out).toString(), stderr: err });
      });
    });
  }

  async close(): Promise<void> {}
}
