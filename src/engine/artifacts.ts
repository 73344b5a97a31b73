import type { LoadedConfig } from '../config/load.js';
import { DeployError } from '../definitions/errors.js';
import { contentSize, parseManifest, type ArtifactManifest } from '../source/artifact/manifest.js';
import { openStore } from '../source/artifact/open-store.js';
import type { ArtifactStore } from '../source/artifact/store.js';
import { readHostStates } from './releases.js';
import { MemoryReporter } from './reporter.js';

export interface ArtifactRow {
  id: string;
  revision?: string;
  stored: string;
  files: number;
  bytes: number;
}

async function readManifest(store: ArtifactStore, id: string): Promise<ArtifactManifest | undefined> {
  const got = await store.getManifest(id);
  return got && parseManifest(got.bytes, id);
}

/** The store's artifacts, newest first. */
export async function listArtifacts(
  loaded: LoadedConfig,
): Promise<{ store: string; artifacts: ArtifactRow[] }> {
  const store = await openStore(loaded.config);
  const stored = (await store.listArtifacts()).sort((a, b) => b.stored.getTime() - a.stored.getTime());
  const artifacts: ArtifactRow[] = [];
  for (const a of stored) {
    const m = await readManifest(store, a.id).catch(() => undefined);
    const size = m ? contentSize(m) : { files: 0, bytes: 0 };
    artifacts.push({
      id: a.id,
      revision: m?.revision,
      stored: a.stored.toISOString(),
      files: size.files,
      bytes: size.bytes,
    });
  }
  return { store: store.label, artifacts };
}

export interface PruneResult {
  store: string;
  kept: string[];
  /** Kept although older than the newest `keep`: a release on these hosts still uses it. */
  inUse: { id: string; hosts: string[] }[];
  removed: string[];
  removedObjects: number;
}

/**
 * Keeps the newest `keep` artifacts and every artifact a release on any host of deploy.yml still
 * holds (a rollback may go back to it), read from the hosts' release logs; removes the others and
 * the objects only they used. A host that cannot be read stops the prune before anything is
 * removed: what it runs is unknown.
 */
export async function pruneArtifacts(
  loaded: LoadedConfig,
  keep: number,
  options: { signal?: AbortSignal; parallel?: number } = {},
): Promise<PruneResult> {
  const store = await openStore(loaded.config);
  const { hosts } = await readHostStates({
    loaded,
    selector: ['all'],
    reporter: new MemoryReporter(),
    signal: options.signal,
    parallel: options.parallel,
  });
  const unread = hosts.find((h) => h.error);
  if (unread?.error) {
    throw new DeployError('ESTORE', {
      store: store.label,
      action: 'prune',
      reason: `host ${unread.host} could not be read (${unread.error.code}: ${unread.error.message.split('\n')[0]}), so the artifacts its releases use are unknown; nothing was removed`,
    });
  }
  const usedBy = new Map<string, string[]>();
  for (const h of hosts) {
    for (const r of h.releases) {
      if (!r.artifact || r.status === 'missing') continue;
      usedBy.set(r.artifact, [...(usedBy.get(r.artifact) ?? []), h.host]);
    }
  }
  const all = (await store.listArtifacts()).sort((a, b) => b.stored.getTime() - a.stored.getTime());
  const newest = new Set(all.slice(0, keep).map((a) => a.id));
  const kept = all.filter((a) => newest.has(a.id) || usedBy.has(a.id)).map((a) => a.id);
  const removed = all.filter((a) => !kept.includes(a.id)).map((a) => a.id);

  const objectsOf = async (ids: readonly string[]) => {
    const out = new Set<string>();
    for (const id of ids) {
      for (const e of (await readManifest(store, id))?.entries ?? []) if (e.sha256) out.add(e.sha256);
    }
    return out;
  };
  const keptObjects = await objectsOf(kept);
  const doomed = [...(await objectsOf(removed))].filter((sha) => !keptObjects.has(sha));
  // Manifests first: an artifact is gone before any of its content is, never listed half-deleted.
  for (const id of removed) await store.deleteArtifact(id);
  await store.deleteObjects(doomed);
  return {
    store: store.label,
    kept,
    inUse: kept.filter((id) => !newest.has(id)).map((id) => ({ id, hosts: [...new Set(usedBy.get(id))] })),
    removed,
    removedObjects: doomed.length,
  };
}
