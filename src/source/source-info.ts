import { contentFrom, type ContentSource } from './content.js';
import type { Change } from './git-status.js';
import type { ScanFindings, SourceEntry } from './scan.js';
import type { ArtifactStore } from './artifact/store.js';

/** What a deploy uploads, read on this machine before any host is touched. */
export interface SourceInfo {
  /** The directory the source was read from (or whose repository holds the commit). */
  root: string;
  entries: readonly SourceEntry[];
  /** Written to REVISION: the commit, `-dirty` when a work tree differs from it. */
  revision?: string;
  /** Where file bytes come from; the directory `root` when absent. */
  content?: ContentSource;
  /** One file's bytes, for framework detection, when they are not in `root` (a commit). */
  readFile?(rel: string): Buffer | undefined;
  /** What git said, when the source is in a git work tree or is a commit. */
  git?: GitSummary;
  /** Files mostly made of holes, which the upload sends and stores at their full size. */
  sparse?: ScanFindings['sparse'];
  /** The artifact deployed (`--artifact`): its id, and the store its files come from. */
  artifact?: { id: string; store: ArtifactStore };
}

interface GitSummary {
  /** The full sha of the commit deployed, or of HEAD for a work tree. */
  commit?: string;
  /** Uncommitted changes this upload carries (a work tree; none for a commit), relative to the source. */
  changes: readonly Change[];
  /** What git's ignore rules left out (an ignored directory once), relative to the source. */
  ignored: readonly string[];
  /** Ignored paths a local build step wrote that `include` does not upload. */
  builtButIgnored: readonly string[];
}

/**
 * Where the source's bytes come from. A directory's content source holds nothing and is made on
 * demand; a commit's or a worktree's is the source's own, so hashing and packing agree on its keys.
 */
export const contentOf = (source: Pick<SourceInfo, 'root' | 'content'>): ContentSource =>
  source.content ?? contentFrom(source.root);
