import type { Config } from '../config/schema.js';
import { sharedDirs, sharedFiles } from '../config/schema.js';
import type { WritableMode } from '../config/persistence-schema.js';
import { DeployError } from '../definitions/errors.js';
import { contentFrom } from '../source/content.js';
import { hashEntries } from '../source/hash.js';
import { sharedHashCache } from '../source/hash-cache.js';
import type { SourceEntry } from '../source/scan.js';
import type { SourceInfo } from '../source/source-info.js';
import { detectRecipes, resolvePersistence, type AppFiles, type Persistence } from './detect.js';
import { appFilesAt, loadRecipes } from './recipes.js';
import { uploadedServerCopies } from './server-copy.js';

/** A file or directory the deploy puts under public_dir, relative to public_dir. */
export interface PublicItem {
  path: string;
  type: 'file' | 'dir';
  /** sha256 of a file's bytes, computed locally: the manifest of what deploys placed in shared. */
  sha256?: string;
}

export interface WritableSettings {
  mode: WritableMode;
  user?: string;
  recursive: boolean;
}

/** Everything the persistence stages need, resolved once per deploy from the local source. */
export interface AppPersistence extends Persistence {
  writable: WritableSettings;
  /** Top-level entries of public_dir in the source; `link` entries stay per release. */
  publicEntries: { name: string; type: 'file' | 'dir' | 'link' }[];
  publicItems: PublicItem[];
}

const persistenceInput = (config: Config) => ({
  shared_dirs: config.shared_dirs,
  shared_files: config.shared_files,
  writable_dirs: config.writable_dirs,
  public_exclude: config.public_exclude,
  public_dir: config.public_dir,
  enable_hooks: config.enable_hooks,
});

/** writable_mode and its user; throws ERECIPE (exit 2) for acl or chown without writable_user. */
function writableOf(config: Config): WritableSettings {
  const mode = config.writable_mode;
  if ((mode === 'acl' || mode === 'chown') && !config.writable_user) {
    throw new DeployError('ERECIPE', {
      reason: `writable_mode ${mode} needs writable_user`,
      advice:
        'Add `writable_user: www-data` (the web server user) to deploy.yml, or use writable_mode: chmod.',
    });
  }
  return { mode, user: config.writable_user, recursive: config.writable_recursive ?? false };
}

// Recipes are package data: read once per process, not once per deploy.
const recipeCache = new Map<string, ReturnType<typeof loadRecipes>>();
const cachedRecipes = (dir?: string) => {
  const key = dir ?? '';
  if (!recipeCache.has(key)) recipeCache.set(key, loadRecipes(dir));
  return recipeCache.get(key)!;
};

/** What detection reads for a source: its directory, or the commit a `--revision` deploy reads from git. */
function appFilesOf(source: Pick<SourceInfo, 'root' | 'entries' | 'readFile'>): AppFiles {
  const { readFile } = source;
  if (!readFile) return appFilesAt(source.root);
  const paths = new Set(source.entries.map((e) => e.path));
  return {
    exists: (p) => paths.has(p),
    readJson: (p) => {
      try {
        return JSON.parse(readFile(p)?.toString('utf8') ?? '') as unknown;
      } catch {
        return undefined;
      }
    },
  };
}

/** Detects the recipe in `source` and applies the user's keys. Throws ERECIPE (exit 2) before any host is contacted. */
export function resolveRecipe(config: Config, recipesDir?: string, files?: AppFiles): Persistence {
  try {
    const recipes = cachedRecipes(recipesDir);
    const detection = detectRecipes(files ?? appFilesAt(config.source), recipes);
    return resolvePersistence(config.recipe ?? 'auto', persistenceInput(config), detection);
  } catch (e) {
    if (e instanceof DeployError) throw e;
    throw new DeployError('ERECIPE', { reason: (e as Error).message });
  }
}

/**
 * Names with a tab or newline cannot be written to the placed-files manifest (one line per
 * file); such files are copied into shared only when absent and otherwise left alone.
 */
export const isManifestSafe = (p: string): boolean => !/[\t\n\r]/.test(p);

/**
 * The recipe with the user's keys, before the source is read: what the probe and the upload mode
 * need. Throws ERECIPE (exit 2), so a bad recipe or setting stops the deploy before any host is
 * contacted. The public directory's items come later, from the source (resolveAppPersistence).
 */
export function basePersistence(config: Config, recipesDir?: string): AppPersistence {
  return {
    ...resolveRecipe(config, recipesDir),
    writable: writableOf(config),
    publicEntries: [],
    publicItems: [],
  };
}

export async function resolveAppPersistence(
  config: Config,
  entries: readonly SourceEntry[],
  recipesDir?: string,
  /** The source the entries came from, when it is not the directory `config.source` (a commit). */
  source?: Pick<SourceInfo, 'root' | 'content' | 'readFile'>,
): Promise<AppPersistence> {
  const base = resolveRecipe(
    config,
    recipesDir,
    source?.readFile ? appFilesOf({ ...source, entries }) : undefined,
  );
  const writable = writableOf(config);
  const publicEntries: AppPersistence['publicEntries'] = [];
  const publicItems: PublicItem[] = [];
  const pd = base.public_dir;
  if (pd) {
    const prefix = `${pd}/`;
    const inPublic = entries.filter((e) => e.path.startsWith(prefix));
    // The upload's hash cache: a repeat deploy from the same checkout reads none of these files.
    const content = contentFrom(source?.content ?? source?.root ?? config.source);
    const cache = await sharedHashCache(content.cacheRoot);
    const hashes = await hashEntries(
      content,
      inPublic.filter((e) => e.type === 'file'),
      cache,
    );
    await cache.save();
    for (const e of inPublic) {
      const rel = e.path.slice(prefix.length);
      if (!rel.includes('/')) {
        publicEntries.push({ name: rel, type: e.type === 'symlink' ? 'link' : e.type });
      }
      if (e.type === 'file') publicItems.push({ path: rel, type: 'file', sha256: hashes.get(e.path) });
      else if (e.type === 'dir') publicItems.push({ path: rel, type: 'dir' });
    }
  }
  // A committed one was put in git on purpose (Next.js and Vite commit .env.production's defaults).
  const uploaded = new Set(entries.filter((e) => e.type === 'file' && e.tracked !== true).map((e) => e.path));
  const copies = uploadedServerCopies(
    config,
    base.shared_files.map((f) => f.path),
    uploaded,
  );
  return { ...base, warnings: [...base.warnings, ...copies], writable, publicEntries, publicItems };
}

/** Persistence from deploy.yml alone, for contexts built without a recipe (tests, other commands). */
export function configOnlyPersistence(config: Config): AppPersistence {
  return {
    recipe: 'none',
    contributors: [],
    shared_dirs: sharedDirs(config).map((d) => d.path),
    shared_files: sharedFiles(config).map(({ path, optional, when_absent }) => ({
      path,
      optional,
      when_absent: when_absent ?? 'link',
    })),
    seed_shared: [...sharedDirs(config), ...sharedFiles(config)]
      .filter((x) => x.seed_shared)
      .map((x) => x.path),
    writable_dirs: [],
    public_dir: null,
    public_exclude: [],
    shared_skeleton: [],
    ephemeral: [],
    hooks: { after_shared: [], after_writable: [], before_symlink: [], after_symlink: [] },
    warnings: [],
    writable: { mode: 'skip', recursive: false },
    publicEntries: [],
    publicItems: [],
  };
}

export const persistenceOf = (ctx: { config: Config; persistence?: AppPersistence }): AppPersistence =>
  ctx.persistence ?? configOnlyPersistence(ctx.config);
