import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { deployPaths } from '../../../src/layout/paths.js';
import { resolveAppPersistence } from '../../../src/persistence/app-persistence.js';
import { detectRecipes, resolvePersistence } from '../../../src/persistence/detect.js';
import { initTemplate } from '../../../src/persistence/init-template.js';
import { appFilesAt, loadRecipes } from '../../../src/persistence/recipes.js';
import {
  defineChanges,
  PENDING_DIR,
  PENDING_LIST,
  recordManifest,
} from '../../../src/layout/release-files.js';
import { defineRemoveRelease, planRemoveRelease } from '../../../src/persistence/rescue.js';
import { composeScript } from '../../../src/engine/compose.js';
import { spareTree } from '../../../src/layout/spare.js';
import { planEmptyTrash, trashDir } from '../../../src/layout/trash.js';
import { recipeHooks } from '../../../src/stages/recipe-hooks.js';
import { readVerifyLines } from '../../../src/stages/verify.js';
import { modeFunction } from '../../../src/stages/writable.js';
import type { ReleaseContext } from '../../../src/stages/types.js';
import { tmpDir, writeTree } from '../../support/project.js';

const APPS = path.resolve(import.meta.dirname, '../../fixtures/apps');
const sh = (script: string) => execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });

function configFor(app: string, extra: Record<string, unknown> = {}) {
  const yaml = JSON.stringify({
    application: 'x',
    source: path.join(APPS, app),
    hosts: { h: { local: true, deploy_path: '/tmp/x' } },
    ...extra,
  });
  return parseConfig(yaml, path.join(APPS, app, 'deploy.yml')).config;
}

describe('resolveAppPersistence', () => {
  it('detects the recipe from the source and lets deploy.yml extend and remove items', async () => {
    const p = await resolveAppPersistence(
      configFor('laravel-vue', { shared_dirs: ['exports'], public_exclude: ['sitemap.xml', '!robots.txt'] }),
      [],
    );
    expect(p.recipe).toBe('laravel');
    expect(p.shared_dirs).toEqual(['storage', 'exports']);
    expect(p.public_exclude).toContain('manifest.json'); // from vue
    expect(p.public_exclude).toContain('sitemap.xml');
    expect(p.public_exclude).not.toContain('robots.txt');
    expect(p.writable).toEqual({ mode: 'chmod', user: undefined, recursive: false });
  });

  it('warns when the upload carries a server copy of a shared file, named as the missing-file hint names it', async () => {
    const config = configFor('laravel', {
      hosts: {
        h: { local: true, deploy_path: '/tmp/x', stage: 'production' },
        s: { local: true, deploy_path: '/tmp/y' },
      },
    });
    const file = (p: string) => ({ path: p, type: 'file' as const, mode: 0o644, size: 1, mtimeMs: 0 });
    const p = await resolveAppPersistence(config, [
      file('.env.production'),
      file('.env.s'),
      file('.env.example'),
    ]);
    expect(p.warnings).toEqual([
      expect.stringMatching(
        /^\.env\.production is uploaded into the release: .*shared\/\.env.*Add it to \.gitignore \(or list it under `exclude:` in deploy\.yml\)/,
      ),
      expect.stringMatching(/^\.env\.s is uploaded into the release/),
    ]);
    expect((await resolveAppPersistence(config, [file('.env.example')])).warnings).toEqual([]);
    // A committed one (Next.js and Vite commit .env.production's defaults) was put in git on purpose.
    const committed = { ...file('.env.production'), tracked: true };
    expect((await resolveAppPersistence(config, [committed])).warnings).toEqual([]);
  });

  it('fails before any host with ERECIPE for an unknown recipe or acl without a user', async () => {
    await expect(
      resolveAppPersistence(configFor('laravel', { recipe: 'cakephp' }), []),
    ).rejects.toMatchObject({
      code: 'ERECIPE',
      exitCode: 2,
    });
    await expect(resolveAppPersistence(configFor('laravel', { writable_mode: 'acl' }), [])).rejects.toThrow(
      /writable_user/,
    );
  });
});

describe('writable modes', () => {
  it('is not recursive unless asked, and names the web server user for acl and chown', () => {
    expect(modeFunction({ mode: 'chmod', recursive: false }).text).toBe(
      '__ss_mode() { chmod ug+rwX -- "$@"; }',
    );
    expect(modeFunction({ mode: 'chmod', recursive: true }).text).toContain('chmod -R ug+rwX');
    expect(modeFunction({ mode: 'chown', user: 'www-data', recursive: false }).text).toContain(
      'chown www-data --',
    );
    expect(modeFunction({ mode: 'acl', user: 'www-data', recursive: false }).text).toContain(
      'u:www-data:rwX',
    );
    expect(modeFunction({ mode: 'skip', recursive: false }).text).toBe('__ss_mode() { :; }');
  });
});

/** A release that went live (its manifest recorded) with one deployed file, for the rescue tests. */
function wentLive(files: Record<string, string> = { 'index.php': 'code' }) {
  const root = tmpDir('shipshape-rescue-');
  const paths = deployPaths(root);
  const release = '20300101-000000';
  const dir = path.join(paths.releases, release);
  writeTree(dir, files);
  sh(recordManifest(paths, dir, release).text);
  return { paths, release, dir, rescued: path.join(paths.shared, '.rescued', release) };
}

/** The cleanup stage's script for one release, composed as the executor sends it (under set -e). */
const removal = (
  paths: ReturnType<typeof deployPaths>,
  release: string,
  ephemeral: string[],
  to: 'trash' | 'spare' = 'trash',
) =>
  composeScript([
    { id: 'cleanup', commands: [defineRemoveRelease(paths, ephemeral), planRemoveRelease(release, to)] },
  ]).text;

describe('rescue', () => {
  it('moves what the app wrote after the switch to shared/.rescued, skipping ephemeral paths, then removes the release', () => {
    const root = tmpDir('shipshape-rescue-');
    const paths = deployPaths(root);
    const release = '20300101-000000';
    const dir = path.join(paths.releases, release);
    writeTree(dir, { 'app/code.php': 'code', 'bootstrap/cache/.gitkeep': '', 'vendor/lib.php': 'lib' });
    sh(recordManifest(paths, dir, release).text);
    // After the switch: the app writes a new file and changes a deployed one; a cache is rebuilt.
    writeTree(dir, { 'app/exports/r.csv': 'data', 'bootstrap/cache/config.php': 'cache' });
    fs.appendFileSync(path.join(dir, 'vendor/lib.php'), ' patched at run time');
    const out = sh(removal(paths, release, ['bootstrap/cache']));
    expect(out).toContain(`@@shipshape-rescued ${release} 2`);
    expect(fs.existsSync(dir)).toBe(false);
    const rescued = path.join(paths.shared, '.rescued', release);
    expect(fs.readFileSync(path.join(rescued, 'app/exports/r.csv'), 'utf8')).toBe('data');
    expect(fs.readFileSync(path.join(rescued, 'vendor/lib.php'), 'utf8')).toBe('lib patched at run time');
    expect(fs.existsSync(path.join(rescued, 'bootstrap'))).toBe(false);
    expect(fs.existsSync(path.join(rescued, 'app/code.php'))).toBe(false);
  });

  it('removes a release that never went live without rescuing anything', () => {
    const root = tmpDir('shipshape-rescue-');
    const paths = deployPaths(root);
    writeTree(path.join(paths.releases, '20300101-000000'), { 'a.txt': 'a' });
    expect(sh(removal(paths, '20300101-000000', []))).toBe('');
    expect(fs.existsSync(path.join(paths.releases, '20300101-000000'))).toBe(false);
    // Moved aside in one rename, whole, for the background delete; nothing under shared/.
    const [trashed] = fs.readdirSync(trashDir(paths));
    expect(trashed).toMatch(/^20300101-000000\.\d+$/);
    expect(fs.readFileSync(path.join(trashDir(paths), trashed!, 'a.txt'), 'utf8')).toBe('a');
    expect(fs.existsSync(paths.shared)).toBe(false);
    // A release already gone is not an error, as with rm -rf.
    expect(sh(removal(paths, '20300101-000000', []))).toBe('');
  });
});

describe('comparing a release with its manifest', () => {
  /** `__ss_changes DIR MANIFEST mtime OUT`, after the given shell lines; its status and what it wrote. */
  const changes = (paths: ReturnType<typeof deployPaths>, dir: string, release: string, before = '') => {
    const out = path.join(paths.meta, 'out');
    const manifest = path.join(paths.meta, 'manifests', `${release}.list`);
    const script = `${defineChanges([]).text}\n${before}\n__ss_rc=0; __ss_changes '${dir}' '${manifest}' mtime '${out}' || __ss_rc=$?\necho "rc=$__ss_rc"; tr '\\0' '\\n' < '${out}'`;
    return sh(script);
  };

  it('leaves pending public updates out of the manifest, so a release nobody touched lists exactly as it', () => {
    const { paths, release, dir } = wentLive({
      'index.php': 'code',
      [`${PENDING_DIR}/public/a.png`]: 'a',
      [PENDING_LIST]: 'x',
    });
    const manifest = fs.readFileSync(path.join(paths.meta, 'manifests', `${release}.list`), 'latin1');
    expect(manifest).toContain('index.php');
    expect(manifest).not.toContain(PENDING_DIR);
    // The pending updates go after the switch: still nothing to report.
    fs.rmSync(path.join(dir, PENDING_DIR), { recursive: true });
    fs.rmSync(path.join(dir, PENDING_LIST));
    expect(changes(paths, dir, release)).toBe('rc=0\n');
    fs.writeFileSync(path.join(dir, 'export.csv'), 'data');
    // A pending update left behind is ours, in the full comparison as in the manifest: not listed.
    writeTree(dir, { [`${PENDING_DIR}/public/b.png`]: 'b' });
    expect(changes(paths, dir, release)).toBe('rc=0\nadded\texport.csv\n');
  });

  it("takes the probe's list of the release's files for that release only, instead of listing it again", () => {
    const { paths, release, dir } = wentLive();
    const list = path.join(paths.meta, 'probe-files.list');
    fs.copyFileSync(path.join(paths.meta, 'manifests', `${release}.list`), list);
    // The release is gone from disk: only the probe's list can say it is unchanged.
    fs.rmSync(dir, { recursive: true });
    expect(changes(paths, dir, release, `__ss_files='${list}' __ss_files_of='${dir}'`)).toBe('rc=0\n');
    // A list of another directory is not used: the release is listed, and cannot be read.
    expect(changes(paths, dir, release, `__ss_files='${list}' __ss_files_of='${dir}.other'`)).toMatch(
      /^rc=1\n/,
    );
  });
});

describe('trash', () => {
  it('is emptied by a detached process: the script returns while the delete still runs', async () => {
    const root = tmpDir("shipshape-trash- it's ");
    const paths = deployPaths(root);
    writeTree(path.join(trashDir(paths), 'old.1'), { 'a/b.txt': 'b' });
    writeTree(path.join(paths.releases, 'live'), { 'keep.txt': 'k' });
    // A `find` that never ends: the script can only return if the delete does not hold its stdio.
    const bin = tmpDir('shipshape-fake-bin-');
    const pidFile = path.join(bin, 'pid');
    fs.writeFileSync(
      path.join(bin, 'find'),
      `#!/bin/sh\necho $$ > ${JSON.stringify(pidFile)}\nexec sleep 600\n`,
      { mode: 0o755 },
    );
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const out = execFileSync('/bin/sh', ['-c', planEmptyTrash(paths).text], { encoding: 'utf8', env });
    expect(out).toBe('');
    // The file exists a moment before `echo` has written into it: wait for the number.
    const readPid = () => (fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0);
    await expect.poll(readPid).toBeGreaterThan(0);
    const pid = readPid();
    // Its own session, so the exec channel's process group (and an abort's kill) does not reach it.
    const sid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]);
    expect(sid).not.toBe(process.pid);
    expect(sid).toBe(pid);
    // At the lowest CPU priority: it runs while the app warms up and the next deploy probes.
    const nice = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    expect(nice).toBe(19);
    process.kill(pid);
  });

  it('is emptied on a host where nice and ionice refuse to run', async () => {
    const root = tmpDir('shipshape-trash-plain-');
    const paths = deployPaths(root);
    writeTree(path.join(trashDir(paths), '20300101-000000.7'), { 'x/y.txt': 'y' });
    const bin = tmpDir('shipshape-no-nice-');
    for (const tool of ['nice', 'ionice'])
      fs.writeFileSync(path.join(bin, tool), '#!/bin/sh\nexit 126\n', { mode: 0o755 });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    expect(execFileSync('/bin/sh', ['-c', planEmptyTrash(paths).text], { encoding: 'utf8', env })).toBe('');
    await expect.poll(() => fs.readdirSync(trashDir(paths)).length).toBe(0);
  });

  it('deletes what is in the trash and nothing else', async () => {
    const root = tmpDir("shipshape-trash- it's ");
    const paths = deployPaths(root);
    writeTree(path.join(trashDir(paths), '20300101-000000.7'), { 'x/y.txt': 'y' });
    writeTree(path.join(trashDir(paths), '20300101-000001.9'), { 'z.txt': 'z' });
    writeTree(path.join(paths.releases, '20300101-000002'), { 'keep.txt': 'k' });
    writeTree(paths.shared, { 'up.txt': 'u' });
    sh(planEmptyTrash(paths).text);
    await expect.poll(() => fs.readdirSync(trashDir(paths)).length).toBe(0);
    expect(fs.existsSync(trashDir(paths))).toBe(true);
    expect(fs.readFileSync(path.join(paths.releases, '20300101-000002/keep.txt'), 'utf8')).toBe('k');
    expect(fs.readFileSync(path.join(paths.shared, 'up.txt'), 'utf8')).toBe('u');
    // An empty or missing trash starts nothing and succeeds.
    expect(sh(planEmptyTrash(paths).text)).toBe('');
    expect(sh(planEmptyTrash(deployPaths(tmpDir('shipshape-trash-none-'))).text)).toBe('');
  });
});

describe('recipe hooks', () => {
  it('guards a hook by command -v and reports an optional failure instead of failing', () => {
    const ctx = {
      releasePath: '/srv/app/releases/1',
      config: {},
      persistence: {
        hooks: {
          after_shared: [],
          after_writable: [],
          before_symlink: [
            {
              id: 'storage-link',
              run: 'php artisan storage:link',
              optional: true,
              when_command_exists: 'php',
              opt_in: false,
            },
          ],
          after_symlink: [],
        },
      },
    } as unknown as ReleaseContext;
    const [cmd] = recipeHooks(['before_symlink']).plan(ctx);
    expect(cmd!.text).toContain('command -v php');
    expect(cmd!.text).toContain("eval 'php artisan storage:link'");
    expect(cmd!.text).toContain('failed storage-link');
  });
});

describe('readVerifyLines', () => {
  it('reads status and label from the markers', () => {
    expect(readVerifyLines('noise\n@@shipshape-verify ok a -> b\n@@shipshape-verify fail c d\n')).toEqual([
      { status: 'ok', label: 'a -> b' },
      { status: 'fail', label: 'c d' },
    ]);
  });
});

describe('deploy init template', () => {
  it('is a valid deploy.yml that names the detected recipe and what it shares', () => {
    const detection = detectRecipes(appFilesAt(path.join(APPS, 'laravel-vue')), loadRecipes());
    const text = initTemplate('shop', detection, resolvePersistence('auto', {}, detection));
    expect(text).toContain('# Detected: laravel (priority 70)');
    expect(text).toContain('#   - storage');
    expect(text).toContain('manifest.json'); // vue's exclusion, added to laravel's
    const { config } = parseConfig(text, '/tmp/deploy.yml');
    expect(config.recipe).toBe('auto');
    expect(config.hosts.staging1?.deploy_path).toBe('/var/www/shop');
  });

  it('defaults to staging, and in a git work tree says what stays home and how to upload build output', () => {
    const detection = detectRecipes(appFilesAt(path.join(APPS, 'laravel-vue')), loadRecipes());
    const p = resolvePersistence('auto', {}, detection);
    const text = initTemplate('shop', detection, p, ['.env', 'node_modules/', 'public/build/', 'vendor/']);
    const { config } = parseConfig(text, '/tmp/deploy.yml');
    expect(config.default_selector).toBe('staging');
    expect(Object.values(config.hosts).map((h) => h.stage)).toEqual(['staging']);
    expect(text).toContain('# Ignored here now: .env, node_modules/, public/build/, vendor/.');
    expect(text).toContain('#   include: [public/build]');
    expect(text).toContain('# vendor/ is not uploaded');
    // The commented examples are deploy.yml as written: uncommented, they load.
    const examples = text
      .split('\n')
      .filter((l) => /^# {3}(include|hooks):/.test(l))
      .map((l) => l.slice(4))
      .join('\n');
    const uncommented = text.replace(/^include: \[\]$/m, '') + examples.replace(/^hooks: .*composer.*$/m, '');
    const loaded = parseConfig(uncommented, '/tmp/deploy.yml').config;
    expect(loaded.include).toEqual(['public/build']);
    expect(loaded.hooks.before.upload).toEqual([
      expect.objectContaining({ run: 'npm ci && npm run build', local: true }),
    ]);
    const composer = examples.split('\n').find((l) => l.includes('composer'))!;
    expect(parseConfig(`${text}\n${composer}`, '/tmp/deploy.yml').config.hooks.after.upload).toEqual([
      'composer install --no-dev --prefer-dist --no-interaction',
    ]);

    const outside = initTemplate('shop', detection, p, undefined);
    expect(outside).toContain('Not a git work tree');
    expect(parseConfig(outside, '/tmp/deploy.yml').config.default_selector).toBe('staging');
  });

  it('rescues files whose names hold a newline, a tab or a backslash, and keeps an earlier copy of the same path', () => {
    const { paths, release, dir, rescued } = wentLive();
    const odd = [
      'exports/a\nb.csv',
      'exports/tab\there',
      'exports/back\\slash',
      'exports/trailing-newline\n',
    ];
    odd.forEach((p, i) => writeTree(dir, { [p]: `body ${i}` }));
    // A copy rescued earlier (of the live release's changes) sits where one of them goes.
    writeTree(rescued, { [odd[0]!]: 'older copy' });
    const out = sh(removal(paths, release, []));
    expect(out).toContain(`@@shipshape-rescued ${release} 4`);
    expect(fs.existsSync(dir)).toBe(false);
    odd.forEach((p, i) => expect(fs.readFileSync(path.join(rescued, p), 'utf8')).toBe(`body ${i}`));
    expect(fs.readFileSync(path.join(rescued, `${odd[0]}.~1~`), 'utf8')).toBe('older copy');
  });

  it.each(['trash', 'spare'] as const)(
    'a rescue that fails keeps the release in place (%s), says which and why, and the script goes on',
    (to) => {
      const { paths, release, dir } = wentLive();
      writeTree(dir, { 'exports/report.csv': 'the app wrote this' });
      // shared/.rescued cannot be created: a file is in the way.
      writeTree(paths.shared, { '.rescued': 'not a directory' });
      const out = sh(`${removal(paths, release, [], to)}echo after\n`);
      expect(out).toMatch(new RegExp(`@@shipshape-kept ${release}\t.*\.rescued`));
      expect(out).toContain('after');
      expect(fs.readFileSync(path.join(dir, 'exports/report.csv'), 'utf8')).toBe('the app wrote this');
      expect(fs.existsSync(spareTree(paths))).toBe(false);
      expect(fs.existsSync(trashDir(paths))).toBe(false);
    },
  );
});
