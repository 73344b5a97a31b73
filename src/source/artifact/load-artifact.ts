import { DeployError } from '../../definitions/errors.js';
import type { SourceEntry } from '../scan.js';
import type { SourceInfo } from '../source-info.js';
import { artifactContent, verifiedObject } from './artifact-content.js';
import { entriesOf, ID_PATTERN, MIN_ID_PREFIX, parseManifest, type ArtifactManifest } from './manifest.js';
import type { ObjectCache } from './object-cache.js';
import type { ArtifactStore } from './store.js';

/** A full id, or the one artifact of the store whose id starts with `text` (as git takes a short sha). */
async function resolveArtifactId(store: ArtifactStore, text: string): Promise<string> {
  const id = text.trim().toLowerCase();
  if (ID_PATTERN.test(id)) return id;
  if (!new RegExp(`^[0-9a-f]{${MIN_ID_PREFIX},63}$`).test(id)) {
    throw new DeployError('EARTIFACT', {
      id: text,
      reason: `an artifact id is 64 hex digits, or a unique prefix of at least ${MIN_ID_PREFIX}`,
    });
  }
  const matches = (await store.listArtifacts()).filter((a) => a.id.startsWith(id));
  if (matches.length === 1) return matches[0]!.id;
  throw new DeployError('EARTIFACT', {
    id: text,
    reason:
      matches.length === 0 ? `${store.label} holds no such artifact` : 'the prefix names several artifacts',
  });
}

export interface LoadedArtifact {
  id: string;
  manifest: ArtifactManifest;
  stored: Date;
}

export async function loadArtifact(store: ArtifactStore, text: string): Promise<LoadedArtifact> {
  const id = await resolveArtifactId(store, text);
  const got = await store.getManifest(id);
  if (!got) throw new DeployError('EARTIFACT', { id, reason: `${store.label} holds no such artifact` });
  return { id, manifest: parseManifest(got.bytes, id), stored: got.stored };
}

/** Framework detection reads a few JSON files at the top (package.json, composer.json). */
const DETECTION_READS = (e: SourceEntry) =>
  e.type === 'file' && !e.path.includes('/') && e.path.endsWith('.json') && e.size <= 1 << 20;

/**
 * The artifact as the source of a deploy: its entries and revision, bytes from the store. Nothing
 * of the source directory is scanned or read; `root` stays the configured source, where local
 * steps after the upload (notifications, say) still run.
 */
export async function artifactSource(
  store: ArtifactStore,
  artifact: LoadedArtifact,
  root: string,
  /** Where a remote store's objects are kept for this deploy, so each is read from the store once. */
  cache?: ObjectCache,
): Promise<SourceInfo> {
  const mtimeMs = Math.floor(artifact.stored.getTime() / 1000) * 1000;
  const entries = entriesOf(artifact.manifest, mtimeMs);
  const small = new Map<string, Buffer>();
  for (const e of entries.filter(DETECTION_READS)) {
    const pieces: Buffer[] = [];
    for await (const piece of verifiedObject(store, e)) pieces.push(piece);
    small.set(e.path, Buffer.concat(pieces));
  }
  return {
    root,
    entries,
    revision: artifact.manifest.revision,
    content: artifactContent(store, artifact.id, cache),
    readFile: (rel) => small.get(rel),
    artifact: { id: artifact.id, store },
  };
}
