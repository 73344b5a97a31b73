import path from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { HOOK_STAGES } from '../definitions/hook-points.js';
import { DeployError } from '../definitions/errors.js';
import { createSanitiser } from '../definitions/sanitise.js';
import type { Change } from '../source/git-status.js';
import { readWorkTreeView } from '../source/git-status.js';
import { resolveCommit, type Commit } from '../source/git-commit.js';
import { addWorktree } from '../source/git-worktree.js';
import { locateGit } from '../source/git.js';
import {
  readCommitSource,
  readTreeSource,
  snapshotIgnored,
  uploadedChanges,
  uploadPatterns,
  type SourceSettings,
} from '../source/local-source.js';
import type { SourceInfo } from '../source/source-info.js';
import { artifactSource, loadArtifact, type LoadedArtifact } from '../source/artifact/load-artifact.js';
import { openStore } from '../source/artifact/open-store.js';
import { objectCache, type ObjectCache } from '../source/artifact/object-cache.js';
import type { ArtifactStore } from '../source/artifact/store.js';
import { basePersistence } from '../persistence/app-persistence.js';
import type { HookBook } from './hooks.js';
import type { Reporter } from './reporter.js';

/** What is deployed, settled before any host is contacted: an artifact, a commit (`revision`), or the work tree. */
export interface SourceCheck {
  commit?: Commit;
  artifact?: { store: ArtifactStore; loaded: LoadedArtifact };
}

const settingsOf = (loaded: LoadedConfig): SourceSettings => ({
  exclude: loaded.config.exclude,
  respect_gitignore: loaded.config.respect_gitignore,
  include: loaded.config.include,
  configFile: loaded.file,
  storeDir: loaded.config.artifacts.store.startsWith('s3://') ? undefined : loaded.config.artifacts.store,
  unsent: unsentShared(loaded),
});

/** Shared paths whose local files the upload never sends: those without `seed_shared`. */
function unsentShared(loaded: LoadedConfig): string[] {
  const p = basePersistence(loaded.config);
  return [...p.shared_dirs, ...p.shared_files.map((f) => f.path)].filter((s) => !p.seed_shared.includes(s));
}

/**
 * deploy.yml and the artifact store are left out by their path under the source; in a worktree
 * the source is elsewhere, so each is named at the same place under the worktree's source (a
 * path outside the source stays outside, and is left out of nothing).
 */
function inWorktree(settings: SourceSettings, source: string, cwd: string): SourceSettings {
  const moved = (p: string | undefined) => {
    if (!p) return undefined;
    const rel = path.relative(path.resolve(source), path.resolve(p));
    return rel.startsWith('..') || path.isAbsolute(rel) ? undefined : path.join(cwd, rel);
  };
  return { ...settings, configFile: moved(settings.configFile), storeDir: moved(settings.storeDir) };
}

/** How many changed files a warning names; the count says how many there are in all. */
const NAMED = 5;

/**
 * A file name inside a sentence of ours: the output's sanitiser keeps a newline or a tab of a
 * message as one (messages have lines), which would cut a name across lines; as a field it is
 * `\x0a`, as the dry run lists it.
 */
const nameOf = createSanitiser().field;

function describeChanges(changes: readonly Change[]): string {
  const named = changes.slice(0, NAMED).map((c) => `${nameOf(c.path)} (${c.kind})`);
  const more = changes.length > NAMED ? `, and ${changes.length - NAMED} more` : '';
  return `${changes.length} uncommitted change(s) in the source: ${named.join(', ')}${more}`;
}

/**
 * The checks that need no host: the revision names a commit, and with `require_clean` the work
 * tree has no uncommitted change the upload would carry. Throws exit-2 errors; cheap (one or
 * two git calls), so a deploy runs it before it connects.
 */
export async function checkSource(loaded: LoadedConfig): Promise<SourceCheck> {
  const { config } = loaded;
  if (config.artifact) {
    // The manifest is read (and its id checked) now, so a wrong id touches no host.
    const store = await openStore(config);
    return { artifact: { store, loaded: await loadArtifact(store, config.artifact) } };
  }
  if (config.revision) {
    const loc = await locateGit(config.source);
    if (!loc) {
      throw new DeployError('EREVISION', {
        revision: config.revision,
        reason: `the source directory ${config.source} is not in a git work tree`,
      });
    }
    return { commit: await resolveCommit(loc, config.revision) };
  }
  if (config.require_clean) {
    const loc = await locateGit(config.source);
    if (!loc)
      throw new DeployError('EDIRTY', { reason: `${config.source} is in no git work tree`, notGit: true });
    const settings = settingsOf(loaded);
    const patterns = await uploadPatterns(config.source, settings);
    const { changes: all } = await readWorkTreeView(config.source, loc);
    const changes = uploadedChanges(all, patterns, settings.unsent);
    if (changes.length > 0) throw new DeployError('EDIRTY', { reason: describeChanges(changes) });
  }
  return {};
}

/** The source as it is now, without running anything (a dry run, `deploy verify`, a deploy without builds). */
export async function readSource(loaded: LoadedConfig, check?: SourceCheck): Promise<SourceInfo> {
  const checked = check ?? (await checkSource(loaded));
  if (checked.artifact) return readArtifact(loaded, checked.artifact);
  const c = checked.commit;
  const settings = settingsOf(loaded);
  return c
    ? readCommitSource(c, settings, loaded.config.source)
    : readTreeSource(loaded.config.source, settings);
}

export interface PreparedSource {
  source: SourceInfo;
  /** Where local steps run: the source directory, or a clean checkout of the deployed commit. */
  cwd: string;
  /** Removes the temporary checkout, if there is one; never throws. */
  dispose(): Promise<void>;
}

const hasLocalSteps = (book: HookBook): boolean =>
  HOOK_STAGES.some((s) => book.local('before', s).length > 0 || book.local('after', s).length > 0);

/** Where a run's local steps go, from the moment a --revision's checkout exists until the run ends. */
export interface LocalCheckout {
  cwd?: string;
  dispose?: () => Promise<void>;
}

/**
 * Runs the local build (`build`, in the right directory) and reads the source it leaves. A
 * commit with local steps gets a temporary worktree: the build and every later local step run
 * there, never in the developer's tree, and it is removed when the deploy ends (`dispose`).
 * Without local steps a commit is read straight from git's objects.
 */
export async function prepareSource(
  loaded: LoadedConfig,
  check: SourceCheck,
  book: HookBook,
  /** Runs the local steps before the upload (the build) in the directory given; undefined: there are none. */
  build: ((cwd: string) => Promise<void>) | undefined,
  reporter: Reporter,
  /**
   * Given: the checkout is handed over as soon as it is made, and the caller removes it, also
   * when the build in it fails, so that `after: failure` runs there and not in the developer's tree.
   */
  owner?: LocalCheckout,
): Promise<PreparedSource> {
  const { config } = loaded;
  const settings = settingsOf(loaded);
  const { commit } = check;
  const nothing = async () => undefined;
  if (check.artifact) {
    if (build) {
      reporter.log(
        'info',
        `the local build steps do not run: artifact ${check.artifact.loaded.id.slice(0, 12)} holds what \`deploy build\` built`,
      );
    }
    // A remote store's objects are downloaded once for all the hosts pushed to, and removed after.
    const cache = check.artifact.store.remote ? objectCache(check.artifact.store) : undefined;
    return {
      source: await readArtifact(loaded, check.artifact, cache),
      cwd: config.source,
      dispose: cache ? cache.remove : nothing,
    };
  }
  if (commit && hasLocalSteps(book)) {
    const tree = await addWorktree(commit);
    const cwd = path.join(tree.dir, commit.loc.prefix);
    if (owner) Object.assign(owner, { cwd, dispose: tree.remove });
    try {
      reporter.log('info', `local steps run in a clean checkout of ${commit.sha.slice(0, 12)}: ${cwd}`);
      await build?.(cwd);
      const source = await readTreeSource(cwd, inWorktree(settings, config.source, cwd), { commit });
      warnAbout(source, reporter);
      return { source, cwd, dispose: tree.remove };
    } catch (e) {
      if (!owner) await tree.remove();
      throw e;
    }
  }
  if (commit) {
    return {
      source: await readCommitSource(commit, settings, config.source),
      cwd: config.source,
      dispose: nothing,
    };
  }
  // Only a build can write ignored output worth a warning; without one, no extra git call.
  const before = build && config.respect_gitignore ? await snapshotIgnored(config.source) : undefined;
  await build?.(config.source);
  const source = await readTreeSource(config.source, settings, { before });
  warnAbout(source, reporter);
  return { source, cwd: config.source, dispose: nothing };
}

const size = (n: number): string =>
  n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${n} bytes`;

const readArtifact = (loaded: LoadedConfig, a: NonNullable<SourceCheck['artifact']>, cache?: ObjectCache) =>
  artifactSource(a.store, a.loaded, loaded.config.source, cache);

function warnAbout(source: SourceInfo, reporter: Reporter): void {
  for (const f of source.sparse ?? []) {
    reporter.log(
      'warn',
      `${f.path} is a sparse file of ${size(f.size)} with ${size(f.allocated)} on disk: the upload has no sparse entries, so it is sent, and stored on every host, at its full size (exclude it in .deployignore if the app does not need it)`,
    );
  }
  const g = source.git;
  if (!g) return;
  if (g.changes.length > 0) {
    reporter.log(
      'warn',
      `${describeChanges(g.changes)}; they are deployed as they are (commit them, or deploy a commit with --revision; require_clean: true refuses)`,
    );
  }
  if (g.builtButIgnored.length > 0) {
    const named = g.builtButIgnored.slice(0, NAMED).map(nameOf).join(', ');
    const more = g.builtButIgnored.length > NAMED ? `, and ${g.builtButIgnored.length - NAMED} more` : '';
    reporter.log(
      'warn',
      `the local build wrote git-ignored paths that are not uploaded: ${named}${more}; list build output under \`include:\` in deploy.yml to upload it`,
    );
  }
}
