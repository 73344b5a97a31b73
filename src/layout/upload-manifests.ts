import path from 'node:path';
import type { DeployPaths } from './paths.js';

/** Where each release's upload manifest (source/manifest.ts) is kept: outside the release, under .deploy/. */
export const manifestDir = (paths: DeployPaths): string => path.posix.join(paths.meta, 'upload-manifests');
export const manifestFile = (paths: DeployPaths, release: string): string =>
  path.posix.join(manifestDir(paths), `${release}.json.gz`);

/**
 * Manifests are written in pieces (source/manifest.ts encodeManifestPieces): each release's list
 * of them beside its manifest, the pieces themselves in one pool, named by their digest.
 */
export const manifestPieces = (paths: DeployPaths): string => path.posix.join(manifestDir(paths), 'pieces');
export const manifestList = (paths: DeployPaths, release: string): string =>
  path.posix.join(manifestDir(paths), `${release}.list`);
