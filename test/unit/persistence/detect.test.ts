import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectRecipes, resolvePersistence, type AppFiles } from '../../../src/persistence/detect.js';
import { appFilesAt, loadRecipes } from '../../../src/persistence/recipes.js';

const APPS = fileURLToPath(new URL('../../fixtures/apps/', import.meta.url));
const recipes = loadRecipes();
const detectApp = (name: string) => detectRecipes(appFilesAt(path.join(APPS, name)), recipes);
const names = (rs: readonly { name: string }[]) => rs.map((r) => r.name);

/** In-memory app: paths that exist, and the parsed JSON of some of them. */
function memoryApp(json: Record<string, unknown>, extra: string[] = []): AppFiles {
  return {
    exists: (p) => p in json || extra.includes(p),
    readJson: (p) => json[p],
  };
}

describe('detectRecipes on fixture apps', () => {
  it.each([
    ['laravel', 'laravel'],
    ['nextjs', 'nextjs'],
    ['nuxt', 'nuxt'],
    ['react', 'react'],
    ['vue', 'vue'],
    ['symfony', 'symfony'],
    ['wordpress', 'wordpress'],
    ['rails', 'rails'],
    ['django', 'django'],
    ['node', 'node'],
    ['static', 'static'],
  ])('%s is detected as %s', (app, recipe) => {
    expect(detectApp(app).primary.name).toBe(recipe);
  });

  it('covers every recipe with a fixture app', () => {
    const covered = fs.readdirSync(APPS).map((app) => detectApp(app).primary.name);
    expect(new Set(covered)).toEqual(new Set(names(recipes)));
  });

  it('explains each match and the choice of primary', () => {
    const d = detectApp('laravel-vue');
    expect(d.reasons).toContain('laravel (priority 70): `artisan` exists');
    expect(d.reasons).toContain('vue (priority 20): package.json depends on `vue`');
    expect(d.reasons).toContain('primary: laravel (highest priority)');
    expect(d.reasons).toContain('vue adds its public_exclude to laravel');
  });
});

describe('detection traps', () => {
  it('`next-tick` in dependencies is not Next.js', () => {
    const d = detectApp('trap-next-tick');
    expect(d.primary.name).toBe('node');
    expect(names(d.matched)).not.toContain('nextjs');
  });

  it('a `next-lint` script or a description mentioning next is not Next.js', () => {
    const d = detectApp('trap-next-lint-script');
    expect(d.primary.name).toBe('node');
    expect(names(d.matched)).toEqual(['node']);
  });

  it('react + next is Next.js', () => {
    const d = detectApp('nextjs');
    expect(d.primary.name).toBe('nextjs');
    expect(names(d.matched)).toEqual(['nextjs', 'react', 'node']);
  });

  it('nuxt + vue is Nuxt', () => {
    expect(names(detectApp('nuxt').matched)).toEqual(['nuxt', 'vue', 'node']);
  });

  it('symfony components without the framework bundle are not Symfony', () => {
    const d = detectApp('trap-symfony-components');
    expect(d.matched).toEqual([]);
    expect(d.primary.name).toBe('static');
    expect(d.reasons).toContain('no recipe matched; using `static`');
  });

  it('a Gemfile alone is not Rails (`all` needs config/application.rb or bin/rails too)', () => {
    expect(detectApp('trap-gemfile-only').primary.name).toBe('static');
  });

  it('laravel + vue is Laravel with Vue’s public exclusions added', () => {
    const d = detectApp('laravel-vue');
    expect(d.primary.name).toBe('laravel');
    expect(names(d.matched)).toEqual(['laravel', 'vue', 'node']);

    const p = resolvePersistence('auto', {}, d);
    expect(p.recipe).toBe('laravel');
    expect(p.contributors).toEqual(['vue']);
    expect(p.public_dir).toBe('public');
    expect(p.public_exclude).toContain('manifest.json'); // from vue.yml only
    expect(p.public_exclude).toContain('index.php'); // laravel
    expect(p.public_exclude).toContain('vite'); // universal
    expect(p.shared_dirs).toEqual(['storage']); // node's .env is not merged: node does not contribute
    expect(p.shared_files).toEqual([
      { path: '.env', optional: false, when_absent: 'link' },
      { path: 'database/database.sqlite', optional: true, when_absent: 'empty' },
    ]);
    // Laravel alone does not carry vue's exclusion.
    expect(resolvePersistence('auto', {}, detectApp('laravel')).public_exclude).not.toContain(
      'manifest.json',
    );
  });

  it('a package.json that is not valid JSON matches no dependency rule', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-detect-'));
    try {
      fs.writeFileSync(path.join(dir, 'package.json'), '{ "dependencies": { "next": "15" ');
      const d = detectRecipes(appFilesAt(dir), recipes);
      expect(d.primary.name).toBe('node');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores dependency maps of the wrong shape and other package.json sections', () => {
    const d = detectRecipes(
      memoryApp({
        'package.json': { dependencies: ['next'], peerDependencies: { next: '*' }, next: { next: 1 } },
      }),
      recipes,
    );
    expect(d.primary.name).toBe('node');
  });

  it('reads each JSON file at most once', () => {
    const reads: string[] = [];
    const app = memoryApp({ 'package.json': { dependencies: { vue: '3' } } });
    detectRecipes({ exists: app.exists, readJson: (p) => (reads.push(p), app.readJson(p)) }, recipes);
    expect(reads.sort()).toEqual(['composer.json', 'package.json']);
  });

  it('reports a tie of equal priorities and picks by name', () => {
    const d = detectRecipes(
      memoryApp({ 'package.json': { dependencies: { react: '18', vue: '3' } } }),
      recipes,
    );
    expect(d.primary.name).toBe('react');
    expect(d.reasons.some((r) => r.includes('ties with vue at priority 20'))).toBe(true);
  });

  it('needs the static fallback when nothing matches', () => {
    const withoutStatic = recipes.filter((r) => r.name !== 'static');
    expect(() => detectRecipes(memoryApp({}), withoutStatic)).toThrow(/fallback recipe `static`/);
  });
});

describe('resolvePersistence', () => {
  const laravel = detectApp('laravel');

  it('without user config returns the recipe’s lists', () => {
    const p = resolvePersistence('auto', {}, laravel);
    expect(p).toMatchObject({
      recipe: 'laravel',
      contributors: [],
      shared_dirs: ['storage'],
      ephemeral: ['bootstrap/cache'],
      shared_skeleton: [
        'storage/app/public',
        'storage/framework/cache',
        'storage/framework/sessions',
        'storage/framework/views',
        'storage/logs',
      ],
      warnings: [],
    });
    expect(p.writable_dirs.slice(0, 2)).toEqual(['bootstrap/cache', 'storage']);
    expect(p.hooks.before_symlink.map((h) => h.id)).toEqual(['storage-link']);
    expect(p.hooks.before_symlink[0]).toMatchObject({
      run: 'php artisan storage:link',
      when_command_exists: 'php',
    });
    expect(p.hooks.after_symlink).toEqual([]);
  });

  it('extends recipe lists with user items, order-preserving and without duplicates', () => {
    const p = resolvePersistence(
      'auto',
      {
        shared_dirs: ['public/uploads', 'storage'],
        writable_dirs: ['public/uploads'],
        public_exclude: ['pdfjs'],
        shared_files: ['auth.json'],
      },
      laravel,
    );
    expect(p.shared_dirs).toEqual(['storage', 'public/uploads']);
    expect(p.writable_dirs.at(-1)).toBe('public/uploads');
    expect(p.public_exclude.at(-1)).toBe('pdfjs');
    expect(p.shared_files.map((f) => f.path)).toEqual(['.env', 'database/database.sqlite', 'auth.json']);
    expect(p.shared_files[2]).toEqual({ path: 'auth.json', optional: false, when_absent: 'link' });
  });

  it('removes recipe items written `!item`, and warns when there is nothing to remove', () => {
    const p = resolvePersistence(
      'auto',
      {
        public_exclude: ['!robots.txt', '!nonexistent'],
        shared_files: ['!database/database.sqlite'],
      },
      laravel,
    );
    expect(p.public_exclude).not.toContain('robots.txt');
    expect(p.public_exclude).not.toContain('!robots.txt');
    expect(p.shared_files).toEqual([{ path: '.env', optional: false, when_absent: 'link' }]);
    expect(p.warnings).toEqual(['public_exclude: `!nonexistent` removes nothing; laravel does not list it']);
  });

  it('rejects a bare `!`', () => {
    expect(() => resolvePersistence('auto', { shared_dirs: ['!'] }, laravel)).toThrow(
      /shared_dirs: `!` must be followed/,
    );
  });

  it('lets a shared_files entry in deploy.yml win over the recipe’s: a plain path is required', () => {
    const p = resolvePersistence(
      'auto',
      { shared_files: [{ path: '.env', optional: true }, 'database/database.sqlite'] },
      laravel,
    );
    expect(p.shared_files).toEqual([
      { path: '.env', optional: true, when_absent: 'link' },
      // The recipe marks it optional; the user wrote it plainly, so it is required. Only what
      // the user did not say (when_absent) comes from the recipe.
      { path: 'database/database.sqlite', optional: false, when_absent: 'empty' },
    ]);
  });

  it('never weakens what the user wrote, for every recipe and every shared file it lists', () => {
    const recipes = loadRecipes();
    const nothing: AppFiles = { exists: () => false, readJson: () => undefined };
    expect(recipes.some((r) => r.shared_files.some((f) => f.optional))).toBe(true);
    for (const recipe of recipes) {
      for (const f of recipe.shared_files) {
        const p = resolvePersistence(
          recipe.name,
          { shared_files: [f.path] },
          detectRecipes(nothing, recipes),
        );
        const got = p.shared_files.find((x) => x.path === f.path);
        expect(got?.optional, `${recipe.name}: ${f.path}`).toBe(false);
      }
    }
  });

  it('replaces public_dir, including with null', () => {
    expect(resolvePersistence('auto', { public_dir: 'web' }, laravel).public_dir).toBe('web');
    expect(resolvePersistence('auto', { public_dir: null }, laravel).public_dir).toBeNull();
  });

  it('runs opt-in hooks only when enabled, and warns about unknown ids', () => {
    const p = resolvePersistence('auto', { enable_hooks: ['migrate', 'migrat'] }, laravel);
    expect(p.hooks.before_symlink.map((h) => h.id)).toEqual(['storage-link', 'migrate']);
    expect(p.hooks.before_symlink[1]!.run).toBe('php artisan migrate --force');
    expect(p.warnings).toEqual([
      'enable_hooks: `migrat` is not an opt-in hook of laravel (opt-in hooks: migrate)',
    ]);
  });

  it('warns when a shared dir overlaps a cache the recipe rebuilds', () => {
    const p = resolvePersistence('auto', { shared_dirs: ['bootstrap'] }, laravel);
    expect(p.warnings).toEqual([
      'shared_dirs: `bootstrap` overlaps `bootstrap/cache`, a cache laravel rebuilds on every deploy',
    ]);
  });

  it('uses an explicitly named recipe, still adding detected contributions', () => {
    const p = resolvePersistence('symfony', {}, detectApp('laravel-vue'));
    expect(p.recipe).toBe('symfony');
    expect(p.contributors).toEqual(['vue']);
    expect(p.shared_dirs).toEqual(['var/log', 'var/sessions']);
    expect(p.public_exclude).toContain('manifest.json');
  });

  it('rejects an unknown recipe name and lists the known ones', () => {
    expect(() => resolvePersistence('larvel', {}, laravel)).toThrow(
      /recipe `larvel` does not exist; choose auto or one of: .*laravel/,
    );
  });

  it('merges the extended recipe’s lists (nextjs extends node)', () => {
    const p = resolvePersistence('auto', {}, detectApp('nextjs'));
    expect(p.shared_files).toEqual([
      { path: '.env', optional: true, when_absent: 'link' },
      { path: '.env.local', optional: true, when_absent: 'link' },
    ]);
    expect(p.public_dir).toBeNull();
    expect(p.ephemeral).toEqual(['.next']);
  });

  it('does not mutate the loaded recipes', () => {
    const before = JSON.stringify(recipes);
    resolvePersistence(
      'auto',
      { shared_dirs: ['x'], shared_files: [{ path: '.env', optional: true, when_absent: 'link' }] },
      laravel,
    );
    resolvePersistence('auto', {}, detectApp('laravel-vue'));
    expect(JSON.stringify(recipes)).toBe(before);
  });
});
