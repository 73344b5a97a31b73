import type { Readable } from 'node:stream';
import { sh, type ShellText } from './sh.js';

export interface ExecRequest {
  /** A POSIX sh script; only `sh` makes one, so no command reaches a host any other way. */
  script: ShellText;
  stdin?: Readable;
  /** Aborting kills the remote process group and rejects. */
  signal?: AbortSignal;
  onStderr?: (chunk: string) => void;
  /**
   * Another script follows this one on the same host (the next phase of a deploy): the transport
   * may get its channel ready meanwhile. Said only where one surely follows, since an SSH server
   * counts every exec request.
   */
  followedBy?: boolean;
}

export interface ExecResult {
  /** null when the process was killed or the connection dropped before it exited. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One connection to one host, reused by every stage of a run. */
export interface Transport {
  readonly kind: 'ssh' | 'local';
  exec(request: ExecRequest): Promise<ExecResult>;
  close(): Promise<void>;
}

/**
 * Every script starts by reporting its process group, so an abort can kill everything
 * it started (a hook's `sleep 30` included) instead of leaving it orphaned on the server.
 */
const PGID_MARKER = '@@shipshape-pgid ';
export const reportPgid = sh`printf '%s%s\\n' ${PGID_MARKER} "$(cut -d' ' -f5 /proc/$$/stat 2>/dev/null)" >&2`;

export function readPgid(stderr: string): number | undefined {
  const at = stderr.indexOf(PGID_MARKER);
  if (at < 0) return undefined;
  const n = Number.parseInt(stderr.slice(at + PGID_MARKER.length), 10);
  return Number.isInteger(n) && n > 1 ? n : undefined;
}

export const isMarkerLine = (line: string): boolean => line.startsWith('@@shipshape-');

/**
 * Removes our protocol lines from stderr before it is shown to a person, and the empty line a
 * marker is printed after (it starts a line of its own whatever came before it).
 */
export const stripMarkers = (stderr: string): string =>
  stderr
    .split('\n')
    .filter((l, i, all) => !isMarkerLine(l) && !(l === '' && isMarkerLine(all[i + 1] ?? '')))
    .join('\n');
