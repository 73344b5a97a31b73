import type { Readable } from 'node:stream';

/**
 * Where artifacts live: a directory on this machine, or an S3-compatible bucket. Content is
 * addressed by its sha256 (`objects/<2 hex>/<sha256>`), so a new artifact stores only what the
 * store lacks; a manifest (`artifacts/<id>`) is written last, so an artifact listed is complete.
 */
export interface ArtifactStore {
  /** For messages: the directory, or `s3://bucket/prefix` (never a credential). */
  readonly label: string;
  /** Hosts can fetch from it themselves (an S3 store, through presigned URLs). */
  readonly remote: boolean;
  /** Which of these objects the store holds. */
  hasObjects(shas: readonly string[]): Promise<Set<string>>;
  /** Stores an object; `body` gives its bytes once, `size` long. */
  putObject(sha: string, size: number, body: () => Readable): Promise<void>;
  /** An object's bytes, streamed. */
  getObject(sha: string): Promise<Readable>;
  putManifest(id: string, bytes: Buffer): Promise<void>;
  /** The manifest and when it was stored, or undefined when the store has no such artifact. */
  getManifest(id: string): Promise<{ bytes: Buffer; stored: Date } | undefined>;
  listArtifacts(): Promise<StoredArtifact[]>;
  listObjects(): Promise<string[]>;
  deleteArtifact(id: string): Promise<void>;
  deleteObjects(shas: readonly string[]): Promise<void>;
  /** Presigned GET URLs (S3 only): whoever holds one may read that one key until it expires. */
  presign?(key: StoreKey, expiresSeconds: number): Promise<string>;
  /** Stores a short-lived object (a fetch bundle) under `fetch/`; S3 only. */
  putTransient?(name: string, bytes: Buffer): Promise<StoreKey>;
  deleteTransient?(key: StoreKey): Promise<void>;
}

export interface StoredArtifact {
  id: string;
  stored: Date;
}

/** A key in the store, relative to its prefix. */
export type StoreKey = string & { readonly __storeKey?: never };

export const objectKey = (sha: string): StoreKey => `objects/${sha.slice(0, 2)}/${sha}`;
export const manifestKey = (id: string): StoreKey => `artifacts/${id}`;
export const transientKey = (name: string): StoreKey => `fetch/${name}`;

const SHA = /^[0-9a-f]{64}$/;
/** The sha256 an object key names, or undefined for anything else under objects/. */
export function shaOfKey(key: string): string | undefined {
  const m = /^objects\/([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(key);
  return m && m[2]!.startsWith(m[1]!) ? m[2] : undefined;
}
export const idOfKey = (key: string): string | undefined => {
  const id = key.startsWith('artifacts/') ? key.slice('artifacts/'.length) : '';
  return SHA.test(id) ? id : undefined;
};
