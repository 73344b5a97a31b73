import type { ShownError } from '../definitions/errors.js';
import type { TransferProgress } from '../source/upload-stream.js';

export type StageState = 'start' | 'done' | 'failed' | 'skipped';

export interface StageInfo {
  id: string;
  title: string;
}

export interface HostOutcome {
  host: string;
  release?: string;
  /** The release that was live on this host before the run; absent on a first deploy. */
  previous?: string;
  /** `unchanged`: the command failed on this host, which still runs `release` as before. */
  status: 'success' | 'failed' | 'skipped' | 'rolled_back' | 'unchanged';
  durationMs: number;
  error?: ShownError;
}

export type { TransferProgress };

/** What a person reads a stage's commands as, with the line that echoes a command (`-v`). */
export type TraceKind = 'command' | 'script';

/** How the engine tells the world what it does; implementations live in src/ui. Stages never print. */
export interface Reporter {
  /** `action` says what the run does to the hosts: "deploying to" (the default), "rolling back". */
  begin(hosts: readonly string[], stages: readonly StageInfo[], action?: string): void;
  /** `detail`: on start, the stage's title (for a stage begin did not list); on failed or skipped, why. */
  stage(host: string, stageId: string, state: StageState, detail?: string): void;
  log(level: 'info' | 'warn' | 'error', message: string, host?: string): void;
  /** Called often (per file sent); a renderer decides how often to show it. */
  progress?(host: string, stageId: string, progress: TransferProgress): void;
  /**
   * One line a hook, task or recipe command printed (its stdout and stderr, in the order they
   * came), as soon as it is complete. `host` is undefined for a step run on this machine.
   */
  output?(host: string | undefined, stageId: string, line: string): void;
  /** What is sent: each command of a stage as it starts (`command`), each whole script (`script`). */
  trace?(host: string, kind: TraceKind, text: string): void;
  end(outcomes: readonly HostOutcome[]): Promise<void>;
}

/** For tests and library use: records everything, prints nothing. */
export class MemoryReporter implements Reporter {
  events: string[] = [];
  begin(hosts: readonly string[]): void {
    this.events.push(`begin ${hosts.join(',')}`);
  }
  stage(host: string, stageId: string, state: StageState, detail?: string): void {
    this.events.push(`${host} ${stageId} ${state}${detail ? ` ${detail}` : ''}`);
  }
  log(level: string, message: string, host?: string): void {
    this.events.push(`${level}${host ? ` [${host}]` : ''} ${message}`);
  }
  output(host: string | undefined, stageId: string, line: string): void {
    this.events.push(`output${host ? ` [${host}]` : ''} ${stageId}: ${line}`);
  }
  async end(): Promise<void> {}
}
