import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { recipeFileSchema, universalSchema } from '../../../src/persistence/recipe-schema.js';
import {
  compileRecipes,
  defaultRecipesDir,
  loadRecipes,
  parseRecipeFile,
} from '../../../src/persistence/recipes.js';

const RECIPES = fileURLToPath(new URL('../../../recipes/', import.meta.url));
const UNIVERSAL = 'description: test\npublic_exclude: [build]\n';

let tmp: string | undefined;
afterEach(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});

/** A recipes directory with the given files (name -> yaml). */
function recipeDir(files: Record<string, string>): string {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-recipes-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), text);
  return tmp;
}

const minimal = (name: string, extra = '') =>
  `name: ${name}\ndescription: x\ndetect: { files: [x] }\npriority: 1\npublic_dir: null\n${extra}`;

describe('the shipped recipes', () => {
  const files = fs.readdirSync(RECIPES).filter((f) => f.endsWith('.yml'));

  it('are found from the package root', () => {
    expect(path.resolve(defaultRecipesDir())).toBe(path.resolve(RECIPES));
  });

  it.each(files.filter((f) => f !== '_universal.yml'))('%s validates against the schema', (file) => {
    const recipe = parseRecipeFile(path.join(RECIPES, file), recipeFileSchema);
    expect(recipe.name).toBe(file.replace(/\.yml$/, ''));
  });

  it('_universal.yml holds the seed’s universal exclusions', () => {
    const u = parseRecipeFile(path.join(RECIPES, '_universal.yml'), universalSchema);
    expect(u.public_exclude).toEqual(
      'css js build _next static assets dist mix-manifest.json hot webpack vite .vite fonts'.split(' '),
    );
  });

  it('load together; every recipe starts from the universal list', () => {
    const recipes = loadRecipes();
    expect(recipes.map((r) => r.name).sort()).toEqual([
      'django',
      'laravel',
      'nextjs',
      'node',
      'nuxt',
      'rails',
      'react',
      'static',
      'symfony',
      'vue',
      'wordpress',
    ]);
    for (const r of recipes) expect(r.public_exclude.slice(0, 3)).toEqual(['css', 'js', 'build']);
  });

  it('are commented', () => {
    for (const f of files) expect(fs.readFileSync(path.join(RECIPES, f), 'utf8')).toMatch(/^# /m);
  });

  it('rank specific recipes above the generic ones they co-occur with', () => {
    const p = Object.fromEntries(loadRecipes().map((r) => [r.name, r.priority]));
    expect(p.laravel!).toBeGreaterThan(p.vue!);
    expect(p.laravel!).toBeGreaterThan(p.symfony!);
    expect(p.nextjs!).toBeGreaterThan(p.react!);
    expect(p.nuxt!).toBeGreaterThan(p.vue!);
    expect(p.react!).toBeGreaterThan(p.node!);
    expect(p.node!).toBeGreaterThan(p.static!);
  });
});

describe('recipes kept by the build (dist/recipes.json)', () => {
  const compiledIn = (dir: string, edit: (c: ReturnType<typeof compileRecipes>) => void): string => {
    const c = compileRecipes(dir);
    edit(c);
    const file = path.join(dir, 'compiled.json');
    fs.writeFileSync(file, JSON.stringify(c));
    return file;
  };

  it('are what parsing the shipped recipes gives', () => {
    const parsed = loadRecipes(RECIPES, path.join(os.tmpdir(), 'no-such-compiled-recipes.json'));
    expect(JSON.parse(JSON.stringify(compileRecipes(RECIPES).recipes))).toEqual(parsed);
  });

  it('are taken while every file reads as it did when they were kept', () => {
    const dir = recipeDir({ '_universal.yml': UNIVERSAL, 'a.yml': minimal('a') });
    const file = compiledIn(dir, (c) => (c.recipes[0]!.priority = 42));
    expect(loadRecipes(dir, file).map((r) => r.priority)).toEqual([42]);
  });

  it('are not taken once a recipe is edited, added or removed: the files are parsed', () => {
    const dir = recipeDir({ '_universal.yml': UNIVERSAL, 'a.yml': minimal('a') });
    const file = compiledIn(dir, (c) => (c.recipes[0]!.priority = 42));
    fs.writeFileSync(path.join(dir, 'a.yml'), minimal('a').replace('priority: 1', 'priority: 2'));
    expect(loadRecipes(dir, file).map((r) => r.priority)).toEqual([2]);
    fs.writeFileSync(path.join(dir, 'b.yml'), minimal('b'));
    expect(loadRecipes(dir, file).map((r) => r.name)).toEqual(['a', 'b']);
    fs.rmSync(path.join(dir, 'b.yml'));
    fs.writeFileSync(path.join(dir, 'a.yml'), minimal('a', 'shared_dir: [x]\n'));
    expect(() => loadRecipes(dir, file)).toThrow(/Unrecognized key: "shared_dir"/);
  });
});

describe('loadRecipes errors name the file and the problem', () => {
  it('an unknown key, with line and column', () => {
    const dir = recipeDir({ '_universal.yml': UNIVERSAL, 'a.yml': minimal('a', 'shared_dir: [x]\n') });
    expect(() => loadRecipes(dir)).toThrow(
      `${path.join(dir, 'a.yml')}:1:1: (top level): Unrecognized key: "shared_dir"`,
    );
  });

  it('a wrong value points at its line', () => {
    const dir = recipeDir({
      '_universal.yml': UNIVERSAL,
      'a.yml': minimal('a', 'shared_dirs:\n  - ../etc\n'),
    });
    expect(() => loadRecipes(dir)).toThrow(
      `a.yml:7:5: shared_dirs.0: must be a relative path inside the release`,
    );
  });

  it('a public_exclude entry with a slash', () => {
    const dir = recipeDir({
      '_universal.yml': UNIVERSAL,
      'a.yml': minimal('a', 'public_exclude: [css/app.css]\n'),
    });
    expect(() => loadRecipes(dir)).toThrow(/public_exclude\.0: must be a single entry name/);
  });

  it('a malformed detect rule explains the rule forms', () => {
    const dir = recipeDir({
      '_universal.yml': UNIVERSAL,
      'a.yml': minimal('a').replace('{ files: [x] }', '{ files: [x], dependencies: [y] }'),
    });
    expect(() => loadRecipes(dir)).toThrow(/detect: a rule is exactly one of \{ files/);
  });

  it('a rule that greps text instead of reading data does not exist', () => {
    const dir = recipeDir({
      '_universal.yml': UNIVERSAL,
      'a.yml': minimal('a').replace('{ files: [x] }', '{ any: [{ contains: next }] }'),
    });
    expect(() => loadRecipes(dir)).toThrow(
      /a\.yml:3:17: detect\.any\.0: unknown rule `contains`; a rule is exactly one of/,
    );
  });

  it('a missing required key', () => {
    const dir = recipeDir({
      '_universal.yml': UNIVERSAL,
      'a.yml': minimal('a').replace('public_dir: null\n', ''),
    });
    expect(() => loadRecipes(dir)).toThrow(/a\.yml:1:1: public_dir: /);
  });

  it('invalid YAML', () => {
    const dir = recipeDir({ '_universal.yml': UNIVERSAL, 'a.yml': 'name: a\nname: b\n' });
    expect(() => loadRecipes(dir)).toThrow(/a\.yml: invalid YAML\n {2}.*a\.yml:2:1: /);
  });

  it('a name that differs from the file name', () => {
    const dir = recipeDir({ '_universal.yml': UNIVERSAL, 'a.yml': minimal('b') });
    expect(() => loadRecipes(dir)).toThrow(
      `${path.join(dir, 'a.yml')}: name \`b\` must equal the file name \`a\``,
    );
  });

  it('extends of an unknown recipe, and a cycle', () => {
    let dir = recipeDir({ '_universal.yml': UNIVERSAL, 'a.yml': minimal('a', 'extends: nope\n') });
    expect(() => loadRecipes(dir)).toThrow(/a\.yml: extends `nope`, which is not a recipe \(known: a\)/);
    fs.rmSync(dir, { recursive: true });
    dir = recipeDir({
      '_universal.yml': UNIVERSAL,
      'a.yml': minimal('a', 'extends: b\n'),
      'b.yml': minimal('b', 'extends: a\n'),
    });
    expect(() => loadRecipes(dir)).toThrow(/extends cycle a -> b -> a/);
  });

  it('a missing _universal.yml', () => {
    const dir = recipeDir({ 'a.yml': minimal('a') });
    expect(() => loadRecipes(dir)).toThrow(/_universal\.yml: missing/);
  });
});

describe('extends', () => {
  it('puts the parent’s lists first; the child wins on a shared file and a hook id', () => {
    const dir = recipeDir({
      '_universal.yml': UNIVERSAL,
      'base.yml': minimal(
        'base',
        [
          'shared_dirs: [logs]',
          'shared_files: [.env]',
          'public_exclude: [dist]',
          'hooks:',
          '  before_symlink:',
          '    - { id: warm, run: old }',
          '    - { id: keep, run: keep }',
        ].join('\n') + '\n',
      ),
      'child.yml': minimal(
        'child',
        [
          'extends: base',
          'shared_dirs: [uploads, logs]',
          'shared_files: [{ path: .env, optional: true }]',
          'hooks:',
          '  before_symlink:',
          '    - { id: warm, run: new }',
          '  after_symlink:',
          '    - { id: ping, run: ping }',
        ].join('\n') + '\n',
      ),
    });
    const child = loadRecipes(dir).find((r) => r.name === 'child')!;
    expect(child.shared_dirs).toEqual(['logs', 'uploads']);
    expect(child.shared_files).toEqual([{ path: '.env', optional: true, when_absent: 'link' }]);
    expect(child.public_exclude).toEqual(['build', 'dist']);
    expect(child.hooks.before_symlink!.map((h) => [h.id, h.run])).toEqual([
      ['warm', 'new'],
      ['keep', 'keep'],
    ]);
    expect(child.hooks.after_symlink!.map((h) => h.id)).toEqual(['ping']);
    expect(child.priority).toBe(1);
  });
});
