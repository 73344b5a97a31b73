import type { Config } from '../../config/schema.js';
import { localStore } from './local-store.js';
import { s3Store } from './s3-store.js';
import type { ArtifactStore } from './store.js';

/** The store deploy.yml names (`artifacts.store`); a directory is already resolved against deploy.yml. */
export async function openStore(config: Pick<Config, 'artifacts'>): Promise<ArtifactStore> {
  const { store, endpoint, region, path_style } = config.artifacts;
  return store.startsWith('s3://') ? s3Store(store, { endpoint, region, path_style }) : localStore(store);
}
