// duplicates: the Reporter types plain.ts imports too: this reporter wraps a PlainReporter and implements the same interface.
import type {
  HostOutcome,
  Reporter,
  StageInfo,
  StageState,
  TraceKind,
  TransferProgress,
} from '../engine/reporter.js';
import { PlainReporter } from './plain.js';

/** How a CI system folds a block of log lines and raises an error or warning. */
export interface FoldDialect {
  open(id: string, title: string): string;
  close(id: string): string;
  annotate(level: 'error' | 'warning', title: string, message: string): string;
}

// https://docs.github.com/actions/reference/workflow-commands-for-github-actions
const ghData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const ghProperty = (s: string) => ghData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

export const GITHUB: FoldDialect = {
  open: (_id, title) => `::group::${ghData(title)}`,
  close: () => '::endgroup::',
  annotate: (level, title, message) => `::${level} title=${ghProperty(title)}::${ghData(message)}`,
};

// https://docs.gitlab.com/ci/jobs/job_logs/#custom-collapsible-sections
const ESC = '\u001b[0K';
const sectionName = (id: string) => id.replace(/[^A-Za-z0-9_.-]/g, '_');
const now = () => Math.floor(Date.now() / 1000);

export const GITLAB: FoldDialect = {
  open: (id, title) => `${ESC}section_start:${now()}:${sectionName(id)}[collapsed=true]\r${ESC}${title}`,
  close: (id) => `${ESC}section_end:${now()}:${sectionName(id)}\r${ESC}`,
  // GitLab has no annotations; the job log's ERROR lines are what people search for.
  annotate: (level, title, message) => `${level.toUpperCase()}: ${title}: ${message}`,
};

// https://learn.microsoft.com/azure/devops/pipelines/scripts/logging-commands: a command's
// message is one line, escaped as azure-pipelines-task-lib's escapedata does.
const azData = (s: string) => s.replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

export const AZURE: FoldDialect = {
  open: (_id, title) => `##[group]${azData(title)}`,
  close: () => '##[endgroup]',
  annotate: (level, title, message) => `##vso[task.logissue type=${level}]${azData(`${title}: ${message}`)}`,
};

interface Fold {
  id: string;
  /** Lines held back while several hosts run, so their folds never interleave. */
  held?: string[];
}

/**
 * Plain timestamped lines, each stage of each host folded into a collapsible block, and errors
 * raised as CI annotations. With one host a fold streams as it happens; with several, a stage's
 * block is written whole when it ends, because CI logs cannot nest or interleave folds. Text
 * from outside arrives sanitised for this CI (see sanitised-reporter.ts): nothing in it can open,
 * close or annotate; the folds and annotations written here are the only workflow commands.
 */
export class FoldingReporter implements Reporter {
  private readonly plain: PlainReporter;
  private readonly folds = new Map<string, Fold>();
  private titles = new Map<string, string>();
  private multi = false;
  /** The host whose line the inner PlainReporter is writing right now. */
  private writingFor?: string;

  constructor(
    private readonly dialect: FoldDialect,
    private readonly write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  ) {
    this.plain = new PlainReporter((l) => this.emit(l, this.writingFor));
  }

  private emit(text: string, host?: string): void {
    const held = host ? this.folds.get(host)?.held : undefined;
    if (held) held.push(text);
    else this.write(text);
  }

  private as(host: string | undefined, fn: () => void): void {
    this.writingFor = host;
    try {
      fn();
    } finally {
      this.writingFor = undefined;
    }
  }

  private closeFold(host: string): void {
    const fold = this.folds.get(host);
    if (!fold) return;
    this.folds.delete(host);
    const lines = [...(fold.held ?? []), this.dialect.close(fold.id)];
    for (const l of lines) this.write(l);
  }

  begin(hosts: readonly string[], stages: readonly StageInfo[], action?: string): void {
    this.multi = hosts.length > 1;
    this.titles = new Map(stages.map((s) => [s.id, s.title]));
    this.plain.begin(hosts, stages, action);
  }

  stage(host: string, stageId: string, state: StageState, detail?: string): void {
    if (state === 'start') {
      this.closeFold(host);
      const id = `${host}_${stageId}`;
      const open = this.dialect.open(id, `${host}: ${this.titles.get(stageId) ?? detail ?? stageId}`);
      if (this.multi) this.folds.set(host, { id, held: [open] });
      else {
        this.write(open);
        this.folds.set(host, { id });
      }
    }
    this.as(host, () => this.plain.stage(host, stageId, state, detail));
    if (state !== 'start') this.closeFold(host);
  }

  log(level: 'info' | 'warn' | 'error', message: string, host?: string): void {
    this.as(host, () => this.plain.log(level, message, host));
    if (level !== 'info') {
      const title = host ? `shipshape: ${host}` : 'shipshape';
      // Defused, a warning would lose the `::` at column 0 that makes it an annotation.
      this.emit(this.dialect.annotate(level === 'warn' ? 'warning' : 'error', title, message), host);
    }
  }

  progress(host: string, stageId: string, p: TransferProgress): void {
    this.as(host, () => this.plain.progress(host, stageId, p));
  }

  /** Inside the host's open fold: the stage's block holds what its hooks printed. */
  output(host: string | undefined, stageId: string, line: string): void {
    this.as(host, () => this.plain.output(host, stageId, line));
  }

  trace(host: string, kind: TraceKind, text: string): void {
    this.as(host, () => this.plain.trace(host, kind, text));
  }

  async end(outcomes: readonly HostOutcome[]): Promise<void> {
    for (const host of [...this.folds.keys()]) this.closeFold(host);
    await this.plain.end(outcomes);
    for (const o of outcomes) {
      if (!o.error) continue;
      this.write(
        this.dialect.annotate('error', `${o.error.code} on ${o.host}`, `${o.error.message}\n${o.error.hint}`),
      );
    }
  }
}
