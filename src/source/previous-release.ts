import { applyDelta, wholeListing, type Listing, type ListingWire } from './listing.js';
import type { PieceRecord } from './manifest.js';

export type { RemoteEntry } from './listing.js';

/** What the probe read about the release `current` points to, as it arrived. */
export interface PreviousReleaseRaw {
  release?: string;
  /** sha256 of the release's upload manifest file on the server. */
  manifestDigest?: string;
  /** base64 of the gzipped upload manifest, when this machine did not already hold it. */
  manifest?: string;
  /** The listing of the release as it is on disk now: whole, or a delta against ours. */
  tree?: ListingWire;
  /** The same for the spare: a pruned release kept to be renamed into the next one. */
  spare?: ListingWire;
  /** Why the release could not be listed: the first line find wrote to stderr (empty: it said nothing). */
  treeError?: string;
  /** The deploy user's uid on the host. */
  uid?: string;
}

export const PREVIOUS_KINDS = [
  'prev-release',
  'prev-uid',
  'prev-manifest-digest',
  'prev-manifest',
  'prev-tree',
  'prev-tree-delta',
  'prev-tree-error',
  'spare-tree',
  'spare-tree-delta',
] as const;

/** `digest TAB data`, or for a delta `base TAB digest TAB data`. */
function readWire(value: string, delta: boolean): ListingWire | undefined {
  const parts = value.split('\t');
  if (parts.length !== (delta ? 3 : 2)) return undefined;
  return delta
    ? { base: parts[0]!, digest: parts[1]!, data: parts[2]! }
    : { digest: parts[0]!, data: parts[1]! };
}

/** Collects the probe's `prev-*` lines; anything else is not ours. */
export function readPreviousLine(
  into: PreviousReleaseRaw | undefined,
  kind: string,
  value: string,
): PreviousReleaseRaw | undefined {
  if (!(PREVIOUS_KINDS as readonly string[]).includes(kind)) return into;
  const out = { ...into };
  if (kind === 'prev-release') out.release = value;
  else if (kind === 'prev-uid') out.uid = value;
  else if (kind === 'prev-manifest-digest') out.manifestDigest = value;
  else if (kind === 'prev-manifest') out.manifest = value;
  else if (kind === 'prev-tree-error') out.treeError = value;
  else if (kind.startsWith('prev-tree')) out.tree = readWire(value, kind.endsWith('-delta'));
  else out.spare = readWire(value, kind.endsWith('-delta'));
  return out;
}

/** The previous release as the upload plan reads it: every part checked against the server's digest. */
export interface PreviousRelease {
  release: string;
  uid?: string;
  /** The gzipped upload manifest. */
  manifest?: Buffer;
  tree?: Listing;
  spare?: Listing;
  /** Why the server could not list it, in find's words (PreviousReleaseRaw.treeError). */
  treeError?: string;
}

/** What this machine kept from earlier deploys to the same host and path (source/probe-cache.ts). */
export interface HeldState {
  listing?: { digest: string; data: Listing };
  manifest(digest: string): Buffer | undefined;
  /** The pieces this machine wrote that manifest in, if it did: their names and sizes, in order. */
  pieces?(digest: string): PieceRecord[] | undefined;
}

const listingOf = (wire: ListingWire | undefined, held: HeldState): Listing | undefined => {
  if (!wire) return undefined;
  if (wire.base === undefined) return wholeListing(wire);
  return held.listing?.digest === wire.base ? applyDelta(held.listing.data, wire) : undefined;
};

/**
 * Puts together what the probe sent and what this machine holds. A part that cannot be put
 * together (a delta against a listing we no longer hold, a manifest we were told we hold and do
 * not) is left out: the plan then uploads in full, as for a release it cannot read.
 */
export function resolvePrevious(
  raw: PreviousReleaseRaw | undefined,
  held: HeldState,
): PreviousRelease | undefined {
  if (!raw?.release) return undefined;
  const manifest = raw.manifest
    ? Buffer.from(raw.manifest, 'base64')
    : raw.manifestDigest
      ? held.manifest(raw.manifestDigest)
      : undefined;
  return {
    release: raw.release,
    uid: raw.uid,
    manifest,
    tree: listingOf(raw.tree, held),
    spare: listingOf(raw.spare, held),
    treeError: raw.treeError,
  };
}
