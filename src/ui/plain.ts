import { formatResults } from './results.js';
import type {
  HostOutcome,
  Reporter,
  StageInfo,
  StageState,
  TraceKind,
  TransferProgress,
} from '../engine/reporter.js';
import { formatProgress } from './progress.js';

const MARK: Record<StageState, string> = { start: '>', done: 'ok', failed: 'FAILED', skipped: 'skipped' };

/** Timestamped lines for CI logs, pipes and log files: no spinners, no colour codes. */
export class PlainReporter implements Reporter {
  private titles = new Map<string, string>();
  private startedAt = new Map<string, number>();
  private multi = false;
  private progressShown = new Map<string, number>();

  constructor(
    private readonly write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
    /** A progress line at most this often per host and stage; the first after as long from its start. */
    private readonly progressEveryMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  private line(text: string, host?: string): void {
    const prefix = host && this.multi ? `[${host}] ` : host ? `${host}: ` : '';
    this.write(`${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} ${prefix}${text}`);
  }

  begin(hosts: readonly string[], stages: readonly StageInfo[], action = 'deploying to'): void {
    this.multi = hosts.length > 1;
    for (const s of stages) this.titles.set(s.id, s.title);
    this.line(`${action} ${hosts.join(', ')}`);
  }

  stage(host: string, id: string, state: StageState, detail?: string): void {
    const key = `${host}\0${id}`;
    if (state === 'start') {
      const title = this.titles.get(id) ?? detail;
      this.startedAt.set(key, this.now());
      this.line(`${MARK.start} ${id}${title ? `: ${title}` : ''}`, host);
      return;
    }
    const took = this.startedAt.has(key)
      ? ` (${((this.now() - this.startedAt.get(key)!) / 1000).toFixed(1)}s)`
      : '';
    this.line(`${MARK[state]} ${id}${took}${detail ? `: ${detail}` : ''}`, host);
  }

  log(level: 'info' | 'warn' | 'error', message: string, host?: string): void {
    this.line(`${level === 'info' ? '' : `${level}: `}${message}`, host);
  }

  /** `| line`; with several hosts after `[host]` (`[local]` for a step on this machine), so they never mix. */
  output(host: string | undefined, _stageId: string, line: string): void {
    const who = this.multi ? `[${host ?? 'local'}] ` : '';
    this.write(`${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} ${who}| ${line}`);
  }

  trace(host: string, kind: TraceKind, text: string): void {
    const lines = text.replace(/\n+$/, '').split('\n');
    if (kind === 'command') lines.forEach((l, i) => this.line(`${i === 0 ? '$' : ' '} ${l}`, host));
    else {
      this.line('script sent:', host);
      for (const l of lines) this.line(`  ${l}`, host);
    }
  }

  progress(host: string, id: string, p: TransferProgress): void {
    const key = `${host}\0${id}`;
    const started = this.startedAt.get(key) ?? this.now();
    const t = this.now();
    if (t - (this.progressShown.get(key) ?? started) < this.progressEveryMs) return;
    this.progressShown.set(key, t);
    this.line(`  ${id}: ${formatProgress(p, t - started)}`, host);
  }

  async end(outcomes: readonly HostOutcome[]): Promise<void> {
    for (const row of formatResults(outcomes)) this.write(row);
  }
}
