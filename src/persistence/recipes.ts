import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';
import { packageRoot } from '../definitions/package-root.js';
import type { AppFiles } from './detect.js';
import {
  mergeHooks,
  recipeFileSchema,
  unionList,
  unionSharedFiles,
  universalSchema,
  type Recipe,
  type RecipeFile,
  type Universal,
} from './recipe-schema.js';

const UNIVERSAL_FILE = '_universal.yml';

export const defaultRecipesDir = (): string => path.join(packageRoot(), 'recipes');

/**
 * Reads every `*.yml` in `dir`: `_universal.yml` plus one recipe per file, whose `name` must equal
 * the file name. Returns recipes with their `extends` chain merged. Throws an Error that names
 * the file and lists every problem in it.
 *
 * Parsing twelve YAML files against their schemas cost 25–35 ms of every command's start, so
 * `npm run build` keeps the result (dist/recipes.json, compileRecipes) under a digest of the
 * files' names and bytes: while every file reads as it did then, that is the answer; a recipe
 * edited, added or removed since is parsed, and its errors reported, as before.
 */
export function loadRecipes(
  dir: string = defaultRecipesDir(),
  compiled: string = compiledRecipesFile(),
): Recipe[] {
  const files = readRecipeFiles(dir);
  const key = recipesKey(files);
  const kept = readCompiled(compiled);
  return kept?.key === key ? kept.recipes : parseRecipes(dir, files);
}

export const compiledRecipesFile = (): string => path.join(packageRoot(), 'dist', 'recipes.json');

/** What the build keeps: the recipes as loadRecipes parses them, and the digest of the files they came from. */
export function compileRecipes(dir: string = defaultRecipesDir()): { key: string; recipes: Recipe[] } {
  const files = readRecipeFiles(dir);
  return { key: recipesKey(files), recipes: parseRecipes(dir, files) };
}

interface RecipeText {
  name: string;
  bytes: Buffer;
}

function readRecipeFiles(dir: string): RecipeText[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.yml') || n.endsWith('.yaml'));
  } catch (e) {
    throw new Error(`cannot read recipes directory ${dir}: ${(e as Error).message}`);
  }
  names.sort();
  return names.map((name) => {
    try {
      return { name, bytes: fs.readFileSync(path.join(dir, name)) };
    } catch (e) {
      throw new Error(`${path.join(dir, name)}: cannot read: ${(e as Error).message}`);
    }
  });
}

const recipesKey = (files: readonly RecipeText[]): string => {
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.name}\0${f.bytes.length}\0`).update(f.bytes);
  return hash.digest('hex');
};

/** Undefined when missing or not what compileRecipes wrote: the files are parsed instead. */
function readCompiled(file: string): { key: string; recipes: Recipe[] } | undefined {
  try {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { key?: unknown; recipes?: unknown };
    return typeof doc.key === 'string' && Array.isArray(doc.recipes)
      ? { key: doc.key, recipes: doc.recipes as Recipe[] }
      : undefined;
  } catch {
    return undefined;
  }
}

function parseRecipes(dir: string, files: readonly RecipeText[]): Recipe[] {
  const names = files.map((f) => f.name);
  if (!names.includes(UNIVERSAL_FILE)) {
    throw new Error(
      `${path.join(dir, UNIVERSAL_FILE)}: missing (it holds the universal public_exclude list)`,
    );
  }
  const textOf = (n: string) => files.find((f) => f.name === n)!.bytes.toString('utf8');
  const universal = parseRecipeText(textOf(UNIVERSAL_FILE), path.join(dir, UNIVERSAL_FILE), universalSchema);
  const parsed: { file: string; recipe: RecipeFile }[] = [];
  for (const n of names) {
    if (n === UNIVERSAL_FILE) continue;
    const file = path.join(dir, n);
    if (n.startsWith('_')) throw new Error(`${file}: only ${UNIVERSAL_FILE} may start with \`_\``);
    const recipe = parseRecipeText(textOf(n), file, recipeFileSchema);
    const expected = n.replace(/\.ya?ml$/, '');
    if (recipe.name !== expected) {
      throw new Error(`${file}: name \`${recipe.name}\` must equal the file name \`${expected}\``);
    }
    parsed.push({ file, recipe });
  }
  return resolveExtends(parsed, universal);
}

/** Parses one YAML file against a schema; every problem is reported with its line and column. */
export function parseRecipeFile<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read: ${(e as Error).message}`);
  }
  return parseRecipeText(text, file, schema);
}

function parseRecipeText<S extends z.ZodType>(text: string, file: string, schema: S): z.output<S> {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const p = counter.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) {
    const list = doc.errors.map((e) => `  ${at(e.pos[0])}: ${e.message.split('\n')[0]}`);
    throw new Error(`${file}: invalid YAML\n${list.join('\n')}`);
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;

  const problems = parsed.error.issues.map((issue) => {
    const keys = issue.path.map(String);
    // Point at the deepest node that exists: a missing key points at the map that lacks it.
    let node: Node | undefined;
    for (let n = keys.length; n >= 0 && !node?.range; n--) {
      node = (n === 0 ? doc.contents : doc.getIn(issue.path.slice(0, n), true)) as Node | undefined;
    }
    const offset = node?.range?.[0] ?? 0;
    const missing = issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined;
    const message = missing ? `is required (${issue.expected})` : issue.message;
    return { offset, text: `  ${at(offset)}: ${keys.join('.') || '(top level)'}: ${message}` };
  });
  const list = problems.sort((a, b) => a.offset - b.offset).map((p) => p.text);
  throw new Error(`${file}: ${list.length} problem(s) in the recipe\n${list.join('\n')}`);
}

function valueAt(root: unknown, at: readonly PropertyKey[]): unknown {
  return at.reduce<unknown>(
    (v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    root,
  );
}

/**
 * Merges each recipe's `extends` chain, rooted at the universal list. Pure; exported so tests can
 * compose in-memory recipes. Unknown parents and cycles are errors naming the file.
 */
function resolveExtends(
  files: readonly { file: string; recipe: RecipeFile }[],
  universal: Universal,
): Recipe[] {
  const byName = new Map(files.map((f) => [f.recipe.name, f]));
  const done = new Map<string, Recipe>();

  const resolve = (name: string, chain: string[]): Recipe => {
    const cached = done.get(name);
    if (cached) return cached;
    const { file, recipe } = byName.get(name)!;
    let base: Pick<
      Recipe,
      | 'shared_dirs'
      | 'shared_files'
      | 'writable_dirs'
      | 'public_exclude'
      | 'shared_skeleton'
      | 'ephemeral'
      | 'hooks'
    > = {
      shared_dirs: [],
      shared_files: [],
      writable_dirs: [],
      public_exclude: universal.public_exclude,
      shared_skeleton: [],
      ephemeral: [],
      hooks: {},
    };
    if (recipe.extends !== undefined) {
      if (!byName.has(recipe.extends)) {
        throw new Error(
          `${file}: extends \`${recipe.extends}\`, which is not a recipe (known: ${[...byName.keys()].join(', ')})`,
        );
      }
      if (chain.includes(recipe.extends)) {
        throw new Error(`${file}: extends cycle ${[...chain, recipe.extends].join(' -> ')}`);
      }
      base = resolve(recipe.extends, [...chain, recipe.extends]);
    }
    const merged: Recipe = {
      ...recipe,
      shared_dirs: unionList(base.shared_dirs, recipe.shared_dirs),
      shared_files: unionSharedFiles(base.shared_files, recipe.shared_files, 'more'),
      writable_dirs: unionList(base.writable_dirs, recipe.writable_dirs),
      public_exclude: unionList(base.public_exclude, recipe.public_exclude),
      shared_skeleton: unionList(base.shared_skeleton, recipe.shared_skeleton),
      ephemeral: unionList(base.ephemeral, recipe.ephemeral),
      hooks: mergeHooks(base.hooks, recipe.hooks),
    };
    done.set(name, merged);
    return merged;
  };

  return files.map((f) => resolve(f.recipe.name, [f.recipe.name]));
}

/**
 * The file-system side of detection, kept here so detect.ts stays pure. `readJson` answers
 * undefined for a missing or unparsable file: a broken package.json matches no dependency rule.
 */
export function appFilesAt(root: string): AppFiles {
  return {
    exists: (p) => fs.existsSync(path.join(root, p)),
    readJson: (p) => {
      try {
        return JSON.parse(fs.readFileSync(path.join(root, p), 'utf8')) as unknown;
      } catch {
        return undefined;
      }
    },
  };
}
