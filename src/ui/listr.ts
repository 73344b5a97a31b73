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
  /** The last lines the stage's commands printed, and its upload progress: what `show` shows. */
  lines: string[];
  progress?: string;
}

/** Lines of a hook's output kept under its task on a terminal; --log or -v keeps them all. */
const SHOWN_LINES = 10;

const render = (w: Waiter) => [...w.lines, ...(w.progress ? [w.progress] : [])].join('\n');

function waiter(): Waiter {
  let start!: () => void;
  let settle!: (state: StageState, detail?: string) => void;
  const started = new Promise<void>((r) => (start = r));
  const result = new Promise<{ state: StageState; detail?: string }>(
    (r) => (settle = (state, detail) => r({ state, detail })),
  );
  return { started, start, settle, result, lines: [] };
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
    // Every task's waiter exists from the start, so end() settles the ones that never ran.
    for (const h of hosts) for (const s of stages) this.get(h, s.id);
    const stageTasks = (host: string): ListrTask[] =>
      stages.map((s) => ({
        title: s.title,
        // The whole text is set each time, so only the last entry is shown; it stays once done.
        rendererOptions: { outputBar: true, persistentOutput: true },
        task: async (_ctx, task) => {
          const w = this.get(host, s.id);
          w.show = (text) => (task.output = text);
          if (w.lines.length || w.progress) w.show(render(w));
          const r = await w.result;
          if (r.state === 'failed') throw new Error(r.detail ?? `${s.id} failed`);
          if (r.state === 'skipped') task.skip(r.detail ?? `${s.title} (skipped)`);
        },
      }));
    const tasks: ListrTask[] =
      hosts.length === 1
        ? stageTasks(hosts[0]!)
        : hosts.map((h) => ({
            title: h,
            task: (_c, t) => t.newListr(stageTasks(h), { exitOnError: false }),
          }));
    // Loaded here, not at the top: only a terminal needs listr2, and CI runs should not pay for it.
    this.running = import('listr2')
      .then(({ Listr }) =>
        // Not exitOnError: after a failed stage the ones that still run (the unlock) show as done,
        // and the ones that never ran as skipped.
        new Listr(tasks, {
          concurrent: hosts.length > 1,
          exitOnError: false,
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
    w.progress = formatProgress(p, Date.now() - (w.startedAt ?? Date.now()));
    w.show(render(w));
  }

  output(host: string | undefined, id: string, line: string): void {
    // A step on this machine has no task in the tree: its lines come with the notes at the end.
    if (host === undefined) {
      this.notes.push(`| ${line}`);
      return;
    }
    const w = this.get(host, id);
    w.lines = [...w.lines, line].slice(-SHOWN_LINES);
    w.show?.(render(w));
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
