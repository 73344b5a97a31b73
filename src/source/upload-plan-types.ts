import type { HashCache } from './hash-cache.js';
import type { FetchLayout } from './artifact/fetch-bundle.js';
import type { ManifestEntry, PieceRecord } from './manifest.js';
import type { SourceEntry } from './scan.js';

export type UploadMode = 'incremental' | 'full' | 'copy';

/**
 * Only hard-link uploads keep and reuse a spare (a pruned release): `full` starts empty, and
 * `copy` is for apps that write into their release, whose leftovers a spare would carry.
 */
export const usesSpare = (mode: UploadMode): boolean => mode === 'incremental';
export type Compression = 'none' | 'gzip';

/** Written by upload with the revision of the source; never part of the source scan. */
export const REVISION_FILE = 'REVISION';

/** What the upload stage does on one host, decided on this machine before anything is sent. */
export interface UploadPlan {
  /**
   * The new release starts empty, as hard links to `base`, as an independent copy of it, or
   * as the spare (a pruned release) renamed into place and corrected by `remove` and `link`.
   */
  seed: 'empty' | 'link' | 'copy' | 'recycle';
  base?: string;
  /** Everything the release is built from (the source as this host gets it), in scan order. */
  entries: readonly SourceEntry[];
  /** Source entries to stream, in scan order (a directory before its contents). */
  send: SourceEntry[];
  /**
   * Removed from the seeded release before extracting: what left the source, what changed
   * type, and every file about to be replaced, so no hard-linked inode is ever written
   * through. Only the top-most path of a removed subtree is listed.
   */
  remove: string[];
  /** Hard-linked from `base` after the removals (recycle only): kept files the spare lacks. */
  link: string[];
  /**
   * Recycle only: the release's change against `base`, what a person asked to deploy (`send` and
   * `remove` above correct the spare, a release a few deploys older, and count that work too).
   */
  againstBase?: { send: readonly SourceEntry[]; remove: readonly string[] };
  /**
   * The source is what `base` was given (source/same-content.ts): a release made from it would
   * differ from `base` only by what the server and the app did to `base` since. Only asked
   * under skip_unchanged (UploadInput.skipUnchanged); undefined otherwise.
   */
  sameAsBase?: boolean;
  /** Carried over from `base` untouched, with the hashes its manifest recorded. */
  kept: Map<string, ManifestEntry>;
  /**
   * Public files not sent because shared/ already holds them as the previous upload placed them
   * (the shared stage links their entry instead): recorded in the new manifest all the same.
   */
  placed?: Map<string, ManifestEntry>;
  compression: Compression;
  /** Where hashes taken while streaming are remembered for the next deploy. */
  cache?: HashCache;
  /**
   * Keeps the new release's upload manifest (gzipped, as the server stores it), so the next probe
   * need not send it, and its pieces (names and sizes) when it was sent in pieces.
   */
  remember?: (manifest: Buffer, pieces?: readonly PieceRecord[]) => void;
  /**
   * The pieces of the live release's manifest, by name, which the server keeps while that release
   * is there: the upload sends only the pieces it lacks (source/manifest.ts encodeManifestPieces).
   */
  heldPieces?: ReadonlyMap<string, Buffer>;
  /** Set when the host fetches the files from the artifact store itself (`fetch: pull`). */
  fetch?: FetchPlan;
}

/** A host that pulls: the bundle it downloads (its URL is never printed) and how to read it. */
export interface FetchPlan {
  layout: FetchLayout;
  bundle: { url: string; sha256: string; size: number };
}
