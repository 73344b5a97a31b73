import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { releasesOf, runCli, snapshot, sshHost, writeConfig, writeTree } from '../support/project.js';
import type { SshdServer } from '../support/sshd.js';
import { useSshd } from '../support/sshd-fixture.js';
import { quote } from '../../src/remote/sh.js';

let server: SshdServer;
let work: string;

// A stand-in `php` on the server's PATH, so the recipe's `storage:link` hook really runs.
useSshd('shipshape-persist-', (fx) => ({ server, work } = fx), {
  fakes: () => ({
    php: '#!/bin/sh\n[ "$2" = storage:link ] && exec ln -s ../storage/app/public public/storage\nexit 1\n',
  }),
});

/** A Laravel app as the seed describes it: uploads and images to share, build output to keep per release. */
function laravelApp(dir: string, version: string) {
  writeTree(dir, {
    artisan: { content: '#!/usr/bin/env php\n<?php\n', mode: 0o755 },
    'composer.json': '{"require":{"laravel/framework":"^11.0"}}\n',
    'public/index.php': `<?php // front controller ${version}\n`,
    'public/.htaccess': 'RewriteEngine On\n',
    'public/robots.txt': `User-agent: * # ${version}\n`,
    'public/css/app.css': `body { color: ${version}; }\n`,
    'public/js/app.js': `console.log('${version}');\n`,
    'public/build/manifest.json': `{"v":"${version}"}\n`,
    'public/uploads/.gitkeep': '',
    'public/images/logo.svg': '<svg>logo v1</svg>\n',
    'storage/app/public/.gitkeep': '',
    'storage/logs/.gitkeep': '',
    'bootstrap/cache/.gitkeep': '',
  });
}

function project(name: string, extra: Record<string, unknown> = {}) {
  const root = path.join(work, name);
  const source = path.join(root, 'app');
  laravelApp(source, 'v1');
  const deployPath = path.join(root, 'server');
  const file = writeConfig(root, {
    application: name,
    source: 'app',
    hosts: { web: sshHost(server, deployPath) },
    ...extra,
  });
  const deploy = async () => {
    const r = await runCli(['-c', file, 'web']);
    expect(r.code, r.output).toBe(0);
    return r;
  };
  return { root, source, deployPath, file, deploy };
}

const read = (p: string) => fs.readFileSync(p);
const putEnv = (deployPath: string) =>
  writeTree(path.join(deployPath, 'shared'), { '.env': 'APP_KEY=base64:x\n' });

describe('persistence over a real sshd (laravel recipe)', () => {
  it('shares public entries, keeps build output per release, and user files survive a deploy and a rollback', async () => {
    const { source, deployPath, file, deploy } = project('laravel');

    const missing = await runCli(['-c', file, 'web']);
    expect(missing.code, missing.output).toBe(1);
    expect(missing.stderr).toContain('ESHAREDMISSING');
    expect(missing.stderr).toContain(`${deployPath}/shared/`);
    expect(missing.stderr).toMatch(/scp -P \d+ .*\.env\.web .*shared\/\.env/);
    expect(releasesOf(deployPath)).toEqual([]);

    putEnv(deployPath);
    await deploy();
    const [first] = releasesOf(deployPath);
    const pub = path.join(deployPath, 'releases', first!, 'public');
    const tree = snapshot(pub);
    expect(tree['uploads']).toBe('link ../../../shared/public/uploads');
    expect(tree['images']).toBe('link ../../../shared/public/images');
    for (const own of ['css', 'js', 'build']) expect(tree[own], own).toMatch(/^dir /);
    expect(tree['index.php']).toMatch(/^file /);
    expect(fs.existsSync(path.join(deployPath, 'shared/public/css'))).toBe(false);
    expect(fs.existsSync(path.join(deployPath, 'shared/public/images/logo.svg'))).toBe(true);
    expect(fs.readFileSync(path.join(deployPath, 'shared/public/.shared-exclusions'), 'utf8')).toContain(
      '- css',
    );

    // Users write through `current`, as the web server would.
    const avatar = randomBytes(4096);
    const doc = randomBytes(1000);
    fs.writeFileSync(path.join(deployPath, 'current/public/uploads/avatar.jpg'), avatar);
    fs.writeFileSync(path.join(deployPath, 'current/storage/app/public/doc.pdf'), doc);
    // Someone edits a deployed image on the server; the next release changes it too.
    fs.writeFileSync(
      path.join(deployPath, 'shared/public/images/logo.svg'),
      '<svg>edited on the server</svg>\n',
    );

    laravelApp(source, 'v2');
    writeTree(source, {
      'public/images/new.svg': '<svg>new in v2</svg>\n',
      'public/images/logo.svg': '<svg>logo v2</svg>\n',
    });
    const second = await deploy();
    expect(second.stdout).toMatch(/public\/: 1 file\(s\) added to shared, 0 updated, 1 left alone/);
    expect(second.stdout).toContain('conflict: shared/public/images/logo.svg');

    const cur = (p: string) => path.join(deployPath, 'current', p);
    expect(fs.readFileSync(cur('public/images/new.svg'), 'utf8')).toBe('<svg>new in v2</svg>\n');
    expect(fs.readFileSync(cur('public/images/logo.svg'), 'utf8')).toBe('<svg>edited on the server</svg>\n');
    expect(fs.readFileSync(cur('public/robots.txt'), 'utf8')).toContain('v2');
    expect(fs.lstatSync(cur('public/index.php')).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(cur('public/index.php'), 'utf8')).toContain('v2');
    expect(read(cur('public/uploads/avatar.jpg')).equals(avatar)).toBe(true);
    expect(read(cur('storage/app/public/doc.pdf')).equals(doc)).toBe(true);

    const back = await runCli(['-c', file, 'rollback', 'web']);
    expect(back.code, back.output).toBe(0);
    expect(fs.readlinkSync(path.join(deployPath, 'current'))).toBe(`releases/${first}`);
    expect(fs.lstatSync(cur('public/css')).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(cur('public/css/app.css'), 'utf8')).toBe('body { color: v1; }\n');
    expect(read(cur('public/uploads/avatar.jpg')).equals(avatar)).toBe(true);
    expect(read(cur('storage/app/public/doc.pdf')).equals(doc)).toBe(true);
    expect(fs.readFileSync(cur('public/images/new.svg'), 'utf8')).toBe('<svg>new in v2</svg>\n');
  });

  it('updates a deployed file in shared when nobody edited it, keeping the old one in .history', async () => {
    const { source, deployPath, file, deploy } = project('update', { writable_dirs: ['escape'] });
    putEnv(deployPath);
    await deploy();
    writeTree(source, { 'public/images/logo.svg': '<svg>logo v2</svg>\n' });
    // A deploy that fails after the shared stage (a writable dir that escapes deploy_path) must not
    // change what the live release serves.
    fs.symlinkSync('/tmp', path.join(source, 'escape'));
    const failed = await runCli(['-c', file, 'web']);
    expect(failed.code, failed.output).toBe(1);
    expect(failed.stderr).toContain('outside the deploy path');
    fs.unlinkSync(path.join(source, 'escape'));
    expect(fs.readFileSync(path.join(deployPath, 'shared/public/images/logo.svg'), 'utf8')).toBe(
      '<svg>logo v1</svg>\n',
    );
    const r = await deploy();
    expect(r.stdout).toMatch(/0 file\(s\) added to shared, 1 updated, 0 left alone/);
    const release = releasesOf(deployPath).at(-1)!;
    expect(fs.readFileSync(path.join(deployPath, 'current/public/images/logo.svg'), 'utf8')).toBe(
      '<svg>logo v2</svg>\n',
    );
    expect(
      fs.readFileSync(path.join(deployPath, `shared/.history/${release}/public/images/logo.svg`), 'utf8'),
    ).toBe('<svg>logo v1</svg>\n');
  });

  it('keeps a file edited in shared after the shared stage checked it, and reports it as left alone', async () => {
    const arm = path.join(work, 'late-edit/arm');
    const shared = path.join(work, 'late-edit/server/shared/public/images/logo.svg');
    const { source, deploy, deployPath } = project('late-edit', {
      // A step between the shared stage and the switch (migrations, say), during which an editor
      // saves a new logo on the server; armed for the second deploy only.
      hooks: {
        before: {
          symlink: [
            `[ ! -f ${quote(arm)} ] || printf '<svg>edited on the server</svg>\\n' > ${quote(shared)}`,
          ],
        },
      },
    });
    const logo = () => fs.readFileSync(shared, 'utf8');
    putEnv(deployPath);
    await deploy();
    writeTree(source, { 'public/images/logo.svg': '<svg>logo v2</svg>\n' });
    fs.writeFileSync(arm, '');
    const r = await deploy();
    expect(logo()).toBe('<svg>edited on the server</svg>\n');
    expect(r.stdout).toMatch(
      /public\/: 0 file\(s\) added to shared, 0 updated, 1 left alone \(edited in shared\)/,
    );
    expect(r.stdout).not.toMatch(/public\/: .* 1 updated/);
    expect(r.stdout).toContain('conflict: shared/public/images/logo.svg was edited on the server');
    const release = releasesOf(deployPath).at(-1)!;
    expect(fs.existsSync(path.join(deployPath, `shared/.history/${release}/public/images/logo.svg`))).toBe(
      false,
    );

    // The next deploy of the same source neither sends the release's version again nor puts it in place.
    fs.unlinkSync(arm);
    const next = await deploy();
    expect(next.stdout).toContain('0 new or changed');
    expect(next.stdout).toMatch(/public\/: 0 file\(s\) added to shared, 0 updated, 0 left alone/);
    expect(logo()).toBe('<svg>edited on the server</svg>\n');
  });

  it('moves what the running app created in public/ into shared and links it in the live and the new release', async () => {
    const { deployPath, deploy } = project('adopt');
    putEnv(deployPath);
    await deploy();
    const [live] = releasesOf(deployPath);
    writeTree(path.join(deployPath, 'current/public'), { 'invoices/2026/0001.pdf': 'invoice 1\n' });
    const r = await deploy();
    expect(r.stdout).toContain('the running app created invoices');
    const link = 'link ../../../shared/public/invoices';
    expect(snapshot(path.join(deployPath, 'releases', live!, 'public'))['invoices']).toBe(link);
    expect(snapshot(path.join(deployPath, 'current/public'))['invoices']).toBe(link);
    expect(fs.readFileSync(path.join(deployPath, 'shared/public/invoices/2026/0001.pdf'), 'utf8')).toBe(
      'invoice 1\n',
    );
  });

  it("deploys cleanly over the seed script's layout (public as one link into shared, css inside shared)", async () => {
    const { source, deployPath, deploy } = project('seed-layout');
    const old = '20200101-000000';
    const oldRelease = path.join(deployPath, 'releases', old);
    fs.cpSync(source, oldRelease, { recursive: true });
    fs.rmSync(path.join(oldRelease, 'public'), { recursive: true });
    fs.rmSync(path.join(oldRelease, 'storage'), { recursive: true });
    fs.symlinkSync('../../shared/public', path.join(oldRelease, 'public'));
    fs.symlinkSync('../../shared/storage', path.join(oldRelease, 'storage'));
    writeTree(path.join(deployPath, 'shared'), {
      '.env': 'APP_KEY=seed\n',
      'public/css/app.css': 'body { color: frozen-by-the-seed; }\n',
      'public/js/app.js': '// frozen\n',
      'public/uploads/photo.jpg': 'user photo\n',
      'public/images/logo.svg': '<svg>logo v1</svg>\n',
      'public/qrcodes/q1.png': 'qr\n',
      'public/.shared-exclusions': '# written by the seed\n',
      'storage/logs/laravel.log': 'old log\n',
    });
    fs.symlinkSync(`releases/${old}`, path.join(deployPath, 'current'));
    const before = snapshot(path.join(deployPath, 'shared'));

    const r = await deploy();
    expect(r.stdout).toContain('holds excluded entries (css, js)');

    const after = snapshot(path.join(deployPath, 'shared'));
    for (const [p, v] of Object.entries(before)) {
      if (p === 'public/.shared-exclusions') continue; // our note replaces the seed's
      // Contents and links must be unchanged; directory modes may change (writable_dirs).
      if (v.startsWith('dir ')) expect(after[p], p).toMatch(/^dir /);
      else expect(after[p], p).toBe(v);
    }
    const pub = snapshot(path.join(deployPath, 'current/public'));
    expect(pub['css']).toMatch(/^dir /);
    expect(fs.readFileSync(path.join(deployPath, 'current/public/css/app.css'), 'utf8')).toBe(
      'body { color: v1; }\n',
    );
    expect(pub['qrcodes']).toBe('link ../../../shared/public/qrcodes');
    expect(pub['uploads']).toBe('link ../../../shared/public/uploads');
    expect(fs.readFileSync(path.join(deployPath, 'current/public/uploads/photo.jpg'), 'utf8')).toBe(
      'user photo\n',
    );
  });

  it('rescues a file the app wrote into its release before that release is pruned', async () => {
    const { deployPath, deploy } = project('rescue', { keep_releases: 2 });
    putEnv(deployPath);
    await deploy();
    const [first] = releasesOf(deployPath);
    writeTree(path.join(deployPath, 'current'), {
      'app/exports/report.csv': 'a,b\n1,2\n',
      'bootstrap/cache/config.php': '<?php return [];\n',
    });
    await deploy();
    const third = await deploy();
    expect(releasesOf(deployPath)).not.toContain(first);
    expect(third.stdout).toContain(`release ${first}: the app wrote 1 file(s)`);
    const rescued = path.join(deployPath, 'shared/.rescued', first!);
    expect(fs.readFileSync(path.join(rescued, 'app/exports/report.csv'), 'utf8')).toBe('a,b\n1,2\n');
    expect(fs.existsSync(path.join(rescued, 'bootstrap/cache/config.php'))).toBe(false);
  });

  it('deploy verify exits 0 on a healthy host and 1 naming a shared link broken by hand', async () => {
    const { deployPath, file, deploy } = project('verify');
    putEnv(deployPath);
    await deploy();
    const ok = await runCli(['-c', file, 'verify', 'web']);
    expect(ok.code, ok.output).toBe(0);
    expect(ok.stdout).toContain('✅ current/storage -> ../../shared/storage');
    expect(ok.stdout).toContain('✅ current/public/uploads -> ../../../shared/public/uploads');
    expect(ok.stdout).not.toContain('❌');
    expect(ok.stdout).toContain('✅ Laravel storage link exists');
    expect(fs.readlinkSync(path.join(deployPath, 'current/public/storage'))).toBe('../storage/app/public');

    const uploads = path.join(deployPath, 'current/public/uploads');
    fs.unlinkSync(uploads);
    fs.mkdirSync(uploads);
    const bad = await runCli(['-c', file, 'verify', 'web']);
    expect(bad.code, bad.output).toBe(1);
    expect(bad.stdout).toContain('❌ current/public/uploads is not a link to ../../../shared/public/uploads');

    const json = await runCli(['-c', file, 'verify', 'web', '--json']);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as {
      ok: boolean;
      hosts: { checks: { status: string; label: string }[] }[];
    };
    expect(parsed.ok).toBe(false);
    expect(parsed.hosts[0]!.checks.filter((c) => c.status === 'fail').map((c) => c.label)).toEqual([
      'current/public/uploads is not a link to ../../../shared/public/uploads',
    ]);
  });
});
