import { spawn } from 'node:child_process';
import { noMask, type Mask } from '../config/secrets.js';
import { DeployError } from '../definitions/errors.js';
import { deliverScript, userCommand } from '../remote/script-stdin.js';
import type { Stage } from '../stages/types.js';
import { stderrTail } from './executor.js';
import type { HookBook, HookWhen } from './hooks.js';
import type { Reporter } from './reporter.js';

/** Runs one `local: true` step on this machine in `cwd`; a non-zero exit fails the deploy. */
export function runLocalStep(
  run: string,
  cwd: string,
  signal?: AbortSignal,
  mask: Mask = noMask,
): Promise<void> {
  return new Promise((resolve, reject) => {
    // As on a server, the step's text goes in on stdin, never as an argument: a local build's
    // `${TOKEN}` would otherwise be in this machine's process list. It then reads end-of-input.
    const { bootstrap, head } = deliverScript(userCommand(run));
    // detached: the step leads its own process group, so an interrupt stops a whole build.
    const child = spawn('/bin/sh', ['-c', bootstrap.text], {
      cwd,
      detached: true,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(head);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const onAbort = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', reject);
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(new DeployError('EINTERRUPTED', { signal: String(signal.reason) }));
      if (code === 0) return resolve();
      reject(
        new DeployError('ESTAGE', {
          host: 'local',
          stage: 'local hook',
          exitCode: code,
          command: run,
          stderr: stderrTail(stderr, mask),
        }),
      );
    });
  });
}

/**
 * Local steps run at phase boundaries: `before.X` ahead of the phase holding stage X, `after.X`
 * once that phase has finished on every host. Steps before `setup`, `lock`, `probe`, `release`
 * or `upload` (builds) are the exception: they run before any host is connected or locked, so a
 * broken build touches no server, and the source is read after them.
 */
export async function runLocalHooks(
  book: HookBook,
  phase: readonly Pick<Stage, 'id'>[],
  when: HookWhen,
  options: { cwd: string; reporter: Reporter; signal?: AbortSignal; mask?: Mask },
): Promise<void> {
  for (const stage of phase) {
    for (const run of book.local(when, stage.id)) {
      options.reporter.log('info', `local ${when} ${stage.id}: ${run}`);
      await runLocalStep(run, options.cwd, options.signal, options.mask);
    }
  }
}
