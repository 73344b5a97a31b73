import type { TransferProgress } from '../source/upload-stream.js';

export type StageState = 'start' | 'done' | 'failed' | 'skipped';

export interface StageInfo {
  id: string;
  title: string;
}

export interface HostOutcome {
  host: string;
  release?: string;
  status: 'success' | 'failed' | 'skipped' | 'rolled_back';
  durationMs: number;
  error?: { code: string; message: string; hint: string };
}

export type { TransferProgress };

/** How the engine tells the world what it does; implementations live in src/ui. Stages never print. */
export interface Reporter {
  begin(hosts: readonly string[], stages: readonly StageInfo[]): void;
  stage(host: string, stageId: string, state: StageState, detail?: string): void;
  log(level: 'info' | 'warn' | 'error', message: string, host?: string): void;
  /** Called often (per file sent); a renderer decides how often to show it. */
  progress?(host: string, stageId: string, progress: TransferProgress): void;
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
  async end(): Promise<void> {}
}
