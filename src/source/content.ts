import type { Hash } from 'node:crypto';
import { directoryContent } from './content-directory.js';
import type { SourceEntry } from './scan.js';
import type { ChunkWriter } from './tar-chunks.js';

/**
 * Where the bytes of the source's files come from: a directory on this machine, or the objects
 * of a commit in the local repository. The upload's planner hashes through it and the tar packer
 * reads through it, so an incremental upload and the hash cache work the same for both.
 */
export interface ContentSource {
  /** Names the hash cache this content shares with earlier runs. */
  readonly cacheRoot: string;
  /**
   * What the hash cache knows a file by: for a directory the file itself (its path and lstat),
   * for a commit the blob, whose bytes never change.
   */
  cacheKey(e: SourceEntry): SourceEntry;
  /** sha256 of each file (no cache): read from disk or from git's objects. */
  hash(files: readonly SourceEntry[]): Promise<Map<string, string>>;
  /** A reader for one pass over the files among `entries`, asked for in that order (as a tar does). */
  reader(entries: readonly SourceEntry[]): ContentReader;
}

export interface ContentReader {
  /**
   * Copies a small file into the archive's buffers at once, hashing it on the way; absent where
   * reads are asynchronous (git's objects come through a pipe).
   */
  readInto?(out: ChunkWriter, e: SourceEntry, hash: Hash): void;
  /** The file's bytes in pieces; throws ESOURCE when they are not what the scan saw. */
  chunks(e: SourceEntry): AsyncIterable<Buffer>;
  /** Ends the pass, also halfway (an upload that failed). */
  close(): void;
}

/** A directory's path, or any content source (a commit's objects). */
export type ContentFrom = string | ContentSource;

export const contentFrom = (c: ContentFrom): ContentSource =>
  typeof c === 'string' ? directoryContent(c) : c;
