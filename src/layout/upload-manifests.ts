import path from 'node:path';
import type { DeployPaths } from './paths.js';

/** Where each release's upload manifest (source/manifest.ts) is kept: outside the release, under .deploy/. */
export const manifestDir = (paths: DeployPaths): string => path.posix.join(paths.meta, 'upload-manifests');
export const manifestFile = (paths: DeployPaths, release: string): string =>
  path.posix.join(manifestDir(paths), `${release}.json.gz`);
