import {
  HOOK_POINTS,
  LIST_KEYS,
  addLists,
  unionList,
  type Hook,
  type HookPoint,
  type ListKey,
  type Recipe,
  type Rule,
  type SharedFile,
} from './recipe-schema.js';

/** What detection may ask about the app; the caller decides where the files come from. */
export interface AppFiles {
  exists(path: string): boolean;
  /** Parsed JSON, or undefined when the file is missing or not valid JSON. */
  readJson(path: string): unknown | undefined;
}

export interface Detection {
  /** Highest-priority match, or `static` when nothing matched. */
  primary: Recipe;
  /** Every matching recipe, highest priority first (ties by name). */
  matched: Recipe[];
  /** One line per decision, for `deploy config` and --verbose output. */
  reasons: string[];
  /** The recipes detection chose among; resolvePersistence looks an explicit `recipe:` up here. */
  candidates: readonly Recipe[];
}

const FALLBACK_RECIPE = 'static';

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys of the named maps of a JSON file; the values (version constraints) do not matter. */
function declaredKeys(json: unknown, maps: readonly string[]): Set<string> {
  const keys = new Set<string>();
  if (!isMap(json)) return keys;
  for (const m of maps) {
    const deps = json[m];
    if (isMap(deps)) for (const k of Object.keys(deps)) keys.add(k);
  }
  return keys;
}

/** Returns why `rule` holds, or undefined when it does not. */
function evaluate(
  rule: Rule,
  files: AppFiles,
  keysOf: (file: 'package.json' | 'composer.json') => Set<string>,
): string | undefined {
  if ('files' in rule) {
    const hit = rule.files.find((p) => files.exists(p));
    return hit === undefined ? undefined : `\`${hit}\` exists`;
  }
  if ('dependencies' in rule) {
    const deps = keysOf('package.json');
    const hit = rule.dependencies.find((d) => deps.has(d));
    return hit === undefined ? undefined : `package.json depends on \`${hit}\``;
  }
  if ('composer' in rule) {
    const deps = keysOf('composer.json');
    const hit = rule.composer.find((d) => deps.has(d));
    return hit === undefined ? undefined : `composer.json requires \`${hit}\``;
  }
  if ('any' in rule) {
    for (const r of rule.any) {
      const why = evaluate(r, files, keysOf);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  const whys: string[] = [];
  for (const r of rule.all) {
    const why = evaluate(r, files, keysOf);
    if (why === undefined) return undefined;
    whys.push(why);
  }
  return whys.join(' and ');
}

/**
 * Decides which recipes describe the app. Pure: all file access goes through `files`.
 * The primary is the match with the highest priority; equal priorities are broken by name and
 * reported, so the user can settle it with `recipe:` in deploy.yml.
 */
export function detectRecipes(files: AppFiles, recipes: readonly Recipe[]): Detection {
  const cache = new Map<string, Set<string>>();
  const keysOf = (file: 'package.json' | 'composer.json'): Set<string> => {
    let keys = cache.get(file);
    if (!keys) {
      const maps = file === 'package.json' ? ['dependencies', 'devDependencies'] : ['require', 'require-dev'];
      keys = declaredKeys(files.readJson(file), maps);
      cache.set(file, keys);
    }
    return keys;
  };

  const reasons: string[] = [];
  const matched: Recipe[] = [];
  for (const recipe of recipes) {
    const why = evaluate(recipe.detect, files, keysOf);
    if (why === undefined) continue;
    matched.push(recipe);
    reasons.push(`${recipe.name} (priority ${recipe.priority}): ${why}`);
  }
  matched.sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));

  let primary = matched[0];
  if (primary === undefined) {
    primary = recipes.find((r) => r.name === FALLBACK_RECIPE);
    if (primary === undefined) {
      throw new Error(`no recipe matched and the fallback recipe \`${FALLBACK_RECIPE}\` is not loaded`);
    }
    reasons.push(`no recipe matched; using \`${FALLBACK_RECIPE}\``);
  } else {
    const tied = matched.filter((r) => r !== primary && r.priority === primary!.priority);
    reasons.push(
      tied.length > 0
        ? `primary: ${primary.name} (ties with ${tied.map((r) => r.name).join(', ')} at priority ${primary.priority}; chosen by name — set \`recipe:\` in deploy.yml to choose)`
        : `primary: ${primary.name} (highest priority)`,
    );
  }
  for (const r of contributorsTo(primary, matched)) {
    reasons.push(`${r.name} adds its ${r.contributes.join(', ')} to ${primary.name}`);
  }
  return { primary, matched, reasons, candidates: recipes };
}

const contributorsTo = (primary: Recipe, matched: readonly Recipe[]): Recipe[] =>
  matched.filter((r) => r.name !== primary.name && r.contributes.length > 0);

/** The persistence keys of deploy.yml. Every key is optional; lists extend the recipe's. */
export interface PersistenceConfig {
  shared_dirs?: readonly (string | { path: string; seed_shared?: boolean })[];
  shared_files?: readonly (
    string | { path: string; optional?: boolean; when_absent?: 'link' | 'empty'; seed_shared?: boolean }
  )[];
  writable_dirs?: readonly string[];
  public_exclude?: readonly string[];
  /** Replaces the recipe's; `null` turns public sharing off. */
  public_dir?: string | null;
  /** Ids of the recipe's opt-in hooks to run (e.g. `migrate`). */
  enable_hooks?: readonly string[];
}

export interface Persistence {
  recipe: string;
  /** Matched recipes whose `contributes` lists were added. */
  contributors: string[];
  shared_dirs: string[];
  shared_files: SharedFile[];
  writable_dirs: string[];
  public_dir: string | null;
  public_exclude: string[];
  shared_skeleton: string[];
  ephemeral: string[];
  /** Hooks that will run: opt-in ones only when enabled. Every point is present. */
  hooks: Record<HookPoint, Hook[]>;
  /** Shared dirs and files whose uploaded copy seeds shared/ while it has none (`seed_shared`). */
  seed_shared: string[];
  /** The recipe's upload mode, used unless deploy.yml sets `upload`. */
  upload?: Recipe['upload'];
  /** Things the user probably did not mean, e.g. removing an item the recipe does not have. */
  warnings: string[];
}

/** Splits a user list into additions and `!removals`. */
function splitUserList(key: string, items: readonly string[]): { add: string[]; remove: Set<string> } {
  const add: string[] = [];
  const remove = new Set<string>();
  for (const item of items) {
    if (!item.startsWith('!')) add.push(item);
    else if (item.length > 1) remove.add(item.slice(1));
    else throw new Error(`${key}: \`!\` must be followed by the item to remove, e.g. \`!storage\``);
  }
  return { add, remove };
}

/**
 * The persistence plan inputs for one app: the recipe (detected when `recipeName` is 'auto'),
 * what other detected recipes contribute, then the user's config.
 *
 * Override rule — one rule for every list key of deploy.yml:
 *   - an item extends the recipe's list (union, recipe order first);
 *   - an item written `!item` removes that item from the recipe's list (like a gitignore negation);
 *     removing an item the recipe does not have is a warning, not an error.
 *   - shared_files: an object entry `{ path, optional }` also replaces the recipe's options for that
 *     path; a plain string keeps them.
 *   - public_dir replaces the recipe's value (`null` disables public sharing).
 * There is no "replace the whole list" switch: `!` per item keeps what the user turned off visible.
 */
export function resolvePersistence(
  recipeName: 'auto' | (string & {}),
  userConfig: PersistenceConfig,
  detection: Detection,
): Persistence {
  let primary = detection.primary;
  if (recipeName !== 'auto') {
    const named = detection.candidates.find((r) => r.name === recipeName);
    if (named === undefined) {
      const known = detection.candidates.map((r) => r.name).join(', ');
      throw new Error(`recipe \`${recipeName}\` does not exist; choose auto or one of: ${known}`);
    }
    primary = named;
  }

  const contributors = contributorsTo(primary, detection.matched);
  let lists: Pick<Recipe, ListKey> = primary;
  for (const c of contributors) lists = addLists(lists, c, c.contributes);

  const warnings: string[] = [];
  const out = {} as Pick<Persistence, ListKey>;
  const userDirs = (userConfig.shared_dirs ?? []).map((x) => (typeof x === 'string' ? { path: x } : x));
  for (const key of LIST_KEYS) {
    if (key === 'shared_files') continue;
    const user =
      key === 'shared_dirs'
        ? userDirs.map((x) => x.path)
        : (userConfig[key as keyof PersistenceConfig] as readonly string[] | undefined);
    const { add, remove } = splitUserList(key, user ?? []);
    for (const r of remove)
      if (!lists[key].includes(r))
        warnings.push(`${key}: \`!${r}\` removes nothing; ${primary.name} does not list it`);
    out[key] = unionList(
      lists[key].filter((i) => !remove.has(i)),
      add,
    );
  }

  const userFiles = (userConfig.shared_files ?? []).map((f) => (typeof f === 'string' ? { path: f } : f));
  const { remove: removeFiles } = splitUserList(
    'shared_files',
    userFiles.filter((f) => f.path.startsWith('!')).map((f) => f.path),
  );
  for (const r of removeFiles) {
    if (!lists.shared_files.some((f) => f.path === r)) {
      warnings.push(`shared_files: \`!${r}\` removes nothing; ${primary.name} does not list it`);
    }
  }
  const files = lists.shared_files.filter((f) => !removeFiles.has(f.path)).map((f) => ({ ...f }));
  for (const f of userFiles) {
    if (f.path.startsWith('!')) continue;
    // The user's entry wins over the recipe's for the same path: a plain path in deploy.yml is a
    // required file, whatever the recipe says. Only what the user did not write (when_absent) is
    // taken from the recipe.
    const same = files.find((x) => x.path === f.path);
    const entry = {
      path: f.path,
      optional: f.optional ?? false,
      when_absent: f.when_absent ?? same?.when_absent ?? 'link',
    };
    if (same === undefined) files.push(entry);
    else Object.assign(same, entry);
  }
  out.shared_files = files;
  const seed_shared = [...userDirs, ...userFiles]
    .filter((x) => typeof x !== 'string' && x.seed_shared && !x.path.startsWith('!'))
    .map((x) => x.path);

  const enabled = new Set(userConfig.enable_hooks ?? []);
  const hooks = {} as Record<HookPoint, Hook[]>;
  const optInIds = new Set<string>();
  for (const point of HOOK_POINTS) {
    const all = primary.hooks[point] ?? [];
    for (const h of all) if (h.opt_in) optInIds.add(h.id);
    hooks[point] = all.filter((h) => !h.opt_in || enabled.has(h.id));
  }
  for (const id of enabled) {
    if (!optInIds.has(id)) {
      const known = [...optInIds].join(', ') || 'none';
      warnings.push(
        `enable_hooks: \`${id}\` is not an opt-in hook of ${primary.name} (opt-in hooks: ${known})`,
      );
    }
  }

  for (const e of out.ephemeral) {
    const clash = out.shared_dirs.find((d) => d === e || e.startsWith(`${d}/`) || d.startsWith(`${e}/`));
    if (clash !== undefined) {
      warnings.push(
        `shared_dirs: \`${clash}\` overlaps \`${e}\`, a cache ${primary.name} rebuilds on every deploy`,
      );
    }
  }

  return {
    recipe: primary.name,
    contributors: contributors.map((r) => r.name),
    ...out,
    public_dir: userConfig.public_dir !== undefined ? userConfig.public_dir : primary.public_dir,
    hooks,
    seed_shared,
    ...(primary.upload ? { upload: primary.upload } : {}),
    warnings,
  };
}
