import type { Config, HostConfig } from '../config/schema.js';
import type { Note } from '../definitions/note.js';
import type { DeployError } from '../definitions/errors.js';
import type { DeployPaths } from '../layout/paths.js';
import type { ProbeMemory } from '../source/probe-memory.js';
import type { RemoteState } from '../layout/remote-state.js';
import type { TransferProgress } from '../source/upload-stream.js';
import type { RunInfo } from '../layout/run-info.js';
import type { Readable } from 'node:stream';
import type { ShellText } from '../remote/sh.js';
import type { SourceInfo } from '../source/source-info.js';
import type { UploadPlan } from '../source/upload-plan.js';
import type { AppPersistence } from '../persistence/app-persistence.js';

/** What every stage may know about its host before anything has been read from it. */
export interface HostContext {
  alias: string;
  host: HostConfig;
  config: Config;
  paths: DeployPaths;
  run: RunInfo;
  /** Written into the lock; only the run holding it may remove it. */
  lockToken: string;
  /** Hides secret values in text this run writes on the server (the release log's reasons). */
  mask?: (text: string) => string;
  /**
   * Recipe and persistence keys, resolved once per deploy before any host is contacted; absent
   * means deploy.yml's lists only. A release context holds the complete one (public_dir's items).
   */
  persistence?: AppPersistence;
  /**
   * What this machine kept from its earlier deploys to this host and path: the probe sends only
   * what differs from it, and keeps what it sent as the next reference. Absent (a dry run, a
   * command that does not upload): everything is sent and nothing is kept.
   */
  memory?: ProbeMemory;
}

export type { SourceInfo };

/** Context of a deploy once the host's state has been read and a release name chosen. */
export interface ReleaseContext extends HostContext {
  release: string;
  releasePath: string;
  remote: RemoteState;
  source: SourceInfo;
  /** How upload builds the release on this host (incremental or full); chosen after the probe. */
  upload?: UploadPlan;
  /** What besides the files makes this release (layout/release-shape.ts); written to .deploy/finished by its finish. */
  shape?: string;
  /** The source as read for this deploy and what the recipe made of it (engine/unchanged.ts recordKey), for skip_unchanged's record. */
  sourceKey?: string;
}

/** How a stage's script ended, as the executor saw it. */
export interface StageOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface StageInput {
  /** A variable name, written as sh`__ss_name`. */
  into: ShellText;
  text: string;
}

export interface Stage<C extends HostContext = ReleaseContext> {
  id: string;
  title: string;
  /** Pure: the remote commands, in order. Each must return non-zero on failure. */
  plan(ctx: C): ShellText[];
  /**
   * The user's own commands (hooks, tasks, recipe commands): what they print, on stdout or stderr,
   * is the person's to read, streamed line by line as it comes (their stdout goes to stderr).
   */
  streams?: boolean;
  /** How a person reads each command of `plan`, in the same order, where that is not its text (a hook's own words). */
  shown?(ctx: C): string[];
  /** Data streamed to the script's stdin (the upload's tar); only one stage of a phase may have it. */
  stdin?(ctx: C, onProgress?: (p: TransferProgress) => void): Readable;
  /**
   * Data known before the script runs, too large to be part of its text (it grows with the app):
   * it goes first on stdin, and the script reads it, before any stage runs, into the shell
   * variable `into` (engine/compose.ts). Any number of a phase's stages may have it, beside the
   * one with `stdin`, which then reads what follows.
   */
  input?(ctx: C): StageInput;
  /** Turns a known failure (e.g. "lock held") into a precise error; undefined means generic. */
  interpret?(outcome: StageOutcome, ctx: C): DeployError | undefined;
  /** After a successful script: lines for the reporter, read from the stage's own stdout markers. */
  notes?(outcome: StageOutcome, ctx: C): Note[];
}
