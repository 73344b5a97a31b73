import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_PATH } from '../../src/config/json-schema.js';
import { releasesOf, tmpDir, writeConfig, writeTree } from '../support/project.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

/** What the package may contain: compiled code, its entry point, data it reads at run time (the recipes, and their parsed copy), and the papers. */
const ALLOWED =
  /^(dist\/.+\.(js|d\.ts)|dist\/bin\/cli\.cjs|dist\/recipes\.json|bin\/deploy\.js|schema\/deploy\.schema\.json|recipes\/[\w-]+\.yml|README\.md|LICENSE|package\.json)$/;

// Packs the tarball (`npm pack` runs `prepare`, which builds dist/), installs it into an empty
// prefix as a user would, and deploys a small app with the installed binary.
describe('the npm package', { timeout: 600_000 }, () => {
  const work = tmpDir('shipshape-package-');
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  const prefix = path.join(work, 'project');
  const bin = path.join(prefix, 'node_modules/.bin/deploy');
  const alias = path.join(prefix, 'node_modules/.bin/shipshape');
  let tarball = '';
  let files: string[] = [];

  // Both tests use the one tarball, whichever runs first.
  beforeAll(async () => {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarball = path.join(work, packed!.filename);
    files = packed!.files.map((f) => f.path);
  }, 600_000);

  it('packs only what it needs', () => {
    expect(files.filter((f) => !ALLOWED.test(f))).toEqual([]);
    for (const needed of [
      'bin/deploy.js',
      'dist/cli.js',
      'dist/bin/cli.cjs',
      'dist/startup/code-cache.js',
      'dist/index.d.ts',
      'schema/deploy.schema.json',
      'recipes/_universal.yml',
      'recipes/laravel.yml',
      'dist/recipes.json',
      'LICENSE',
      'README.md',
    ]) {
      expect(files).toContain(needed);
    }
  });

  it('installs as an app’s devDependency, as the README says, and deploys a demo app with `npx shipshape`', async () => {
    fs.mkdirSync(prefix, { recursive: true });
    fs.writeFileSync(path.join(prefix, 'package.json'), '{ "name": "demo-app", "private": true }\n');
    await run('npm', ['install', '--save-dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      cwd: prefix,
      maxBuffer: 64 * 1024 * 1024,
    });
    const manifest = JSON.parse(fs.readFileSync(path.join(prefix, 'package.json'), 'utf8')) as {
      devDependencies?: Record<string, string>;
    };
    expect(manifest.devDependencies?.shipshape).toMatch(/^file:.*\.tgz$/);
    // The install line the README gives, and docs/ci.md repeats, names this very tarball.
    const line = `npm install --save-dev ./tools/${path.basename(tarball)}`;
    for (const doc of ['README.md', 'docs/ci.md'])
      expect(fs.readFileSync(path.join(ROOT, doc), 'utf8'), doc).toContain(line);

    // Both names, one program: `shipshape` cannot be mistaken for npm's unrelated `deploy` package.
    const { stdout: shown } = await run(bin, ['--version'], { cwd: prefix });
    expect(shown.trim()).toBe(version);
    expect(fs.realpathSync(alias)).toBe(fs.realpathSync(bin));
    const { stdout: viaNpx } = await run('npx', ['shipshape', '--version'], { cwd: prefix });
    expect(viaNpx.trim()).toBe(version);

    writeTree(path.join(prefix, 'app'), { 'index.html': '<h1>installed</h1>\n' });
    const file = writeConfig(prefix, {
      application: 'demo',
      source: 'app',
      hosts: { here: { local: true, deploy_path: './target' } },
    });
    // The editor line written into deploy.yml files resolves, next to a deploy.yml at the project root.
    expect(fs.existsSync(path.resolve(prefix, SCHEMA_PATH))).toBe(true);
    const env = { ...process.env, CI: 'true', GITHUB_ACTIONS: '', GITLAB_CI: '' };
    const deployed = await run('npx', ['shipshape', '-c', file, 'here'], { cwd: prefix, env }).catch(
      (e: { stdout: string; stderr: string }) => {
        throw new Error(`installed deploy failed:\n${e.stdout}\n${e.stderr}`);
      },
    );
    expect(deployed.stdout).toContain('success');
    const target = path.join(prefix, 'target');
    expect(releasesOf(target)).toHaveLength(1);
    expect(fs.readFileSync(path.join(target, 'current/index.html'), 'utf8')).toBe('<h1>installed</h1>\n');
  });
});
