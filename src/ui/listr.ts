import type { ListrTask } from 'listr2';
import { formatResults } from './results.js';
import type { HostOutcome, Reporter, StageInfo, StageState, TransferProgress } from '../engine/reporter.js';
import { formatProgress, throttle } from './progress.js';

interface Waiter {
  started: Promise<void>;
  start(): void;
  settle(state: StageState, detail?: string): void;
  result: Promise<{ state: StageState; detail?: string }>;
  startedAt?: number;
  /** Writes under the task's title, once the task runs. */
  show?: (text: string) => void;
}

function waiter(): Waiter {
  let start!: () => void;
  let settle!: (state: StageState, detail?: string) => void;
  const started = new Promise<void>((r) => (start = r));
  const result = new Promise<{ state: StageState; detail?: string }>(
    (r) => (settle = (state, detail) => r({ state, detail })),
  );
  return { started, start, settle, result };
}

/** A task per host and stage on a terminal. The engine runs on its own; tasks follow its events. */
export class ListrReporter implements Reporter {
  private waiters = new Map<string, Waiter>();
  private running?: Promise<unknown>;
  private notes: string[] = [];

  private get(host: string, id: string): Waiter {
    const key = `${host}\0${id}`;
    let w = this.waiters.get(key);
    if (!w) this.waiters.set(key, (w = waiter()));
    return w;
  }

  begin(hosts: readonly string[], stages: readonly StageInfo[]): void {
    const stageTasks = (host: string): ListrTask[] =>
      stages.map((s) => ({
        title: s.title,
        task: async (_ctx, task) => {
          const w = this.get(host, s.id);
          w.show = (text) => (task.output = text);
          const r = await w.result;
          if (r.state === 'failed') throw new Error(r.detail ?? `${s.id} failed`);
          if (r.state === 'skipped') task.skip(r.detail ?? `${s.title} (skipped)`);
        },
      }));
    const tasks: ListrTask[] =
      hosts.length === 1
        ? stageTasks(hosts[0]!)
        : hosts.map((h) => ({ title: h, task: (_c, t) => t.newListr(stageTasks(h), { exitOnError: true }) }));
    // Loaded here, not at the top: only a terminal needs listr2, and CI runs should not pay for it.
    this.running = import('listr2')
      .then(({ Listr }) =>
        new Listr(tasks, {
          concurrent: hosts.length > 1,
          exitOnError: hosts.length === 1,
          rendererOptions: { collapseSubtasks: false, collapseErrors: false },
        }).run(),
      )
      .catch(() => undefined);
  }

  stage(host: string, id: string, state: StageState, detail?: string): void {
    const w = this.get(host, id);
    if (state === 'start') {
      w.startedAt = Date.now();
      w.start();
    } else w.settle(state, detail);
  }

  private progressDue = throttle(250);

  progress(host: string, id: string, p: TransferProgress): void {
    const w = this.get(host, id);
    if (!w.show || !this.progressDue(`${host}\0${id}`)) return;
    w.show(formatProgress(p, Date.now() - (w.startedAt ?? Date.now())));
  }

  log(level: 'info' | 'warn' | 'error', message: string, host?: string): void {
    this.notes.push(`${level === 'info' ? '' : `${level}: `}${host ? `[${host}] ` : ''}${message}`);
  }

  async end(outcomes: readonly HostOutcome[]): Promise<void> {
    for (const w of this.waiters.values()) w.settle('skipped');
    await this.running;
    for (const n of this.notes) process.stdout.write(`${n}\n`);
    for (const row of formatResults(outcomes)) process.stdout.write(`${row}\n`);
  }
}
