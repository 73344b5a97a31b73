import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { noMask, type Mask } from '../config/secrets.js';
import { DeployError } from '../definitions/errors.js';
import { deliverScript, userCommand } from '../remote/script-stdin.js';
import { withoutRepositoryVariables } from '../source/git.js';
import type { Stage } from '../stages/types.js';
import { stderrTail } from './executor.js';
import { hookEnv, type RunContext } from './hook-env.js';
import type { HookBook, HookWhen } from './hooks.js';
import type { Reporter } from './reporter.js';

/** How much of a step's output is kept for the error that quotes its last lines. */
const TAIL_BYTES = 64 * 1024;

export interface LocalStepOptions {
  signal?: AbortSignal;
  mask?: Mask;
  /** SHIPSHAPE_* and the like, on top of this process's environment. */
  env?: Record<string, string>;
  /** Each complete line the step prints, stdout and stderr alike, as it comes. */
  onLine?: (line: string) => void;
}

/** Splits a stream into lines for `onLine`; a character split between two chunks stays whole. */
function lineReader(onLine: (line: string) => void) {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const feed = (text: string) => {
    pending += text;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const l of parts) onLine(l.replace(/\r$/, ''));
  };
  return {
    write: (chunk: Buffer) => feed(decoder.write(chunk)),
    end: () => {
      feed(decoder.end());
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}

/**
 * The output a failing step's error quotes: `tail` with `line` appended, at most `2 * limit`
 * characters. It is masked before it is cut, as stderrTail does: cut first, a secret straddling
 * the cut would lose its opening characters and no longer match, and its rest would show. A
 * secret still arriving sits at the end, whole, until a later pass. Cutting only at twice the
 * limit masks once per `limit` characters of output, not once per line.
 */
export function keptTail(tail: string, line: string, mask: Mask, limit = TAIL_BYTES): string {
  const next = `${tail}${line}\n`;
  return next.length > 2 * limit ? mask(next).slice(-limit) : next;
}

/** Runs one `local: true` step on this machine in `cwd`; a non-zero exit fails the deploy. */
export function runLocalStep(run: string, cwd: string, o: LocalStepOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    // As on a server, the step's text goes in on stdin, never as an argument: a local build's
    // `${{ env.TOKEN }}` would otherwise be in this machine's process list. It then reads
    // end-of-input. SHIPSHAPE_* go in its environment, which only its user can read.
    const { bootstrap, head } = deliverScript(userCommand(run));
    // detached: the step leads its own process group, so an interrupt stops a whole build.
    const child = spawn('/bin/sh', ['-c', bootstrap.text], {
      cwd,
      detached: true,
      env: { ...withoutRepositoryVariables(), ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(head);
    const mask = o.mask ?? noMask;
    let tail = '';
    const keep = (line: string) => {
      tail = keptTail(tail, line, mask);
      o.onLine?.(line);
    };
    const readers = [child.stdout, child.stderr].map((stream) => {
      const r = lineReader(keep);
      stream.on('data', r.write);
      return r;
    });
    const onAbort = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', reject);
    child.on('close', (code) => {
      for (const r of readers) r.end();
      o.signal?.removeEventListener('abort', onAbort);
      if (o.signal?.aborted)
        return reject(new DeployError('EINTERRUPTED', { signal: String(o.signal.reason) }));
      if (code === 0) return resolve();
      reject(
        new DeployError('ESTAGE', {
          host: 'local',
          stage: 'local hook',
          exitCode: code,
          command: run,
          stderr: stderrTail(tail, mask),
        }),
      );
    });
  });
}

export interface LocalHookOptions {
  cwd: string;
  reporter: Reporter;
  signal?: AbortSignal;
  mask?: Mask;
  /** What the steps see as SHIPSHAPE_* variables. */
  context?: RunContext;
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
  options: LocalHookOptions,
): Promise<void> {
  for (const stage of phase) {
    const id = `${when}:${stage.id}`;
    for (const run of book.local(when, stage.id)) {
      options.reporter.log('info', `local ${when} ${stage.id}: ${run}`);
      await runLocalStep(run, options.cwd, {
        signal: options.signal,
        mask: options.mask,
        env: options.context && hookEnv(options.context),
        onLine: (line) => options.reporter.output?.(undefined, id, line),
      });
    }
  }
}
