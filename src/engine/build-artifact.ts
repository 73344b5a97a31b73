import type { LoadedConfig } from '../config/load.js';
import { openStore } from '../source/artifact/open-store.js';
import { saveArtifact, type SavedArtifact } from '../source/artifact/save-artifact.js';
import { hookBook } from './hooks.js';
import { runLocalHooks } from './hooks-local.js';
import { deployPhases } from './hooks-phases.js';
import { checkSource, prepareSource } from './prepare-source.js';
import type { Reporter } from './reporter.js';

export interface BuiltArtifact extends SavedArtifact {
  revision?: string;
  store: string;
}

/**
 * `deploy build`: the local steps a deploy runs before its upload (the build), once, in the
 * source or (with a revision) in a clean checkout of that commit, then the tree they leave as an
 * artifact in the store. No host is contacted. The steps run as for a deploy to every host of
 * deploy.yml (a step limited to some hosts runs when any host is one of them).
 */
export async function buildArtifact(
  loaded: LoadedConfig,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<BuiltArtifact> {
  const { config } = loaded;
  const all = Object.entries(config.hosts).map(([alias, host]) => ({ alias, host }));
  const book = hookBook(config, all);
  const phases = deployPhases(book);
  const before = [...phases.prepare, ...phases.upload];
  const hasBuild = before.some((s) => book.local('before', s.id).length > 0);
  const build = hasBuild
    ? (cwd: string) => runLocalHooks(book, before, 'before', { cwd, reporter, signal })
    : undefined;
  const store = await openStore(config);
  const prepared = await prepareSource(loaded, await checkSource(loaded), book, build, reporter);
  try {
    const saved = await saveArtifact(store, prepared.source);
    return { ...saved, revision: prepared.source.revision, store: store.label };
  } finally {
    await prepared.dispose();
  }
}
