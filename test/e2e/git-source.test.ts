import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gitIn, isolatedGitEnv } from '../support/git.js';
import { releasesOf, runCli, snapshot, sshHost, writeConfig, writeTree } from '../support/project.js';
import type { SshdServer } from '../support/sshd.js';
import { useSshd } from '../support/sshd-fixture.js';

let server: SshdServer;
let work: string;

useSshd('shipshape-git-e2e-', (fx) => ({ server, work } = fx));

/**
 * A Laravel-like app in a git repository (the source is `app/` of it) with what a developer's tree
 * holds and git ignores: dependencies, a local secret, Vite's dev-server marker, an absolute link.
 */
function project(name: string, config: Record<string, unknown> = {}, globalGitConfig = '') {
  const top = path.join(work, name);
  const app = path.join(top, 'app');
  writeTree(top, {
    'app/.gitignore': '/node_modules\n/public/build\n/public/hot\n/public/storage\nsecret.local\n',
    'app/index.php': '<?php echo "v1";\n',
    'app/config/app.php': '<?php return [];\n',
    'app/public/index.php': '<?php require "../index.php";\n',
    'app/node_modules/vite/index.js': 'dependency\n',
    'app/secret.local': 'password\n',
    'app/public/hot': 'http://localhost:5173\n',
    'app/public/storage': { link: path.join(top, 'storage/app/public') },
  });
  const env = isolatedGitEnv(top, globalGitConfig);
  const g = gitIn(top);
  g.init();
  const file = writeConfig(top, {
    application: name,
    source: 'app',
    recipe: 'static',
    hosts: { web: sshHost(server, path.join(work, `${name}.server`)) },
    ...config,
  });
  return { top, app, g, env, file, deployPath: path.join(work, `${name}.server`) };
}

const live = (deployPath: string) => path.join(deployPath, 'current');
const read = (p: string) => fs.readFileSync(p, 'utf8');

describe('a source in a git work tree, over a real sshd', () => {
  it('leaves out what git ignores (the global excludes file too); the dry run lists what would be sent', async () => {
    const globalIgnore = path.join(work, 'global-excludes');
    fs.writeFileSync(globalIgnore, '*.orig\n');
    const p = project('ignored', {}, `[core]\n\texcludesFile = ${globalIgnore}\n`);
    p.g.commitAll('app');
    writeTree(p.app, { 'index.php.orig': 'merge leftover\n' });

    const dry = await runCli(['-c', p.file, '--dry-run', '--verbose', 'web'], { env: p.env });
    expect(dry.code, dry.output).toBe(0);
    expect(dry.stdout).toContain('  send:   4 file(s)');
    expect(dry.stdout).toContain('    send public/index.php');
    expect(dry.stdout).not.toContain('send secret.local');
    expect(dry.stdout).toMatch(/left out by git's ignore rules: .*node_modules\//);
    expect(dry.stdout).toMatch(/left out by git's ignore rules: .*index\.php\.orig/);

    const r = await runCli(['-c', p.file, 'web'], { env: p.env });
    expect(r.code, r.output).toBe(0);
    const release = snapshot(live(p.deployPath));
    for (const gone of ['secret.local', 'node_modules', 'public/hot', 'public/storage', 'index.php.orig'])
      expect(release[gone], gone).toBeUndefined();
    expect(Object.keys(release).sort()).toEqual(
      [
        '.gitignore',
        'REVISION',
        'config',
        'config/app.php',
        'index.php',
        'public',
        'public/index.php',
      ].sort(),
    );
    expect(r.output).not.toContain('uncommitted');

    // respect_gitignore: false uploads the working directory as it is, as before.
    const all = writeConfig(p.top, { ...readConfig(p.file), respect_gitignore: false });
    expect((await runCli(['-c', all, 'web'], { env: p.env })).code).toBe(0);
    expect(fs.existsSync(path.join(live(p.deployPath), 'secret.local'))).toBe(true);
  });

  it('uploads the git-ignored output of a local build step listed in `include`, and warns when it is not', async () => {
    const build = {
      before: { upload: [{ run: 'mkdir -p public/build && echo built > public/build/app.js', local: true }] },
    };
    const p = project('build-output', { hooks: build });
    p.g.commitAll('app');
    const without = await runCli(['-c', p.file, 'web'], { env: p.env });
    expect(without.code, without.output).toBe(0);
    expect(without.stdout).toMatch(
      /warn: the local build wrote git-ignored paths that are not uploaded: public\/build\/; list build output under `include:`/,
    );
    expect(fs.existsSync(path.join(live(p.deployPath), 'public/build'))).toBe(false);

    writeConfig(p.top, { ...readConfig(p.file), include: ['public/build'] });
    const withInclude = await runCli(['-c', p.file, 'web'], { env: p.env });
    expect(withInclude.code, withInclude.output).toBe(0);
    expect(read(path.join(live(p.deployPath), 'public/build/app.js'))).toBe('built\n');
    expect(withInclude.stdout).not.toContain('not uploaded');
    // Still ignored for everything else: the marker and the dependencies stay home.
    expect(fs.existsSync(path.join(live(p.deployPath), 'public/hot'))).toBe(false);
  });

  it('names uncommitted changes (five, and the count) in a warning, a ::warning:: on GitHub Actions', async () => {
    const p = project('dirty');
    p.g.commitAll('app');
    fs.appendFileSync(path.join(p.app, 'index.php'), '// edited\n');
    for (const n of [1, 2, 3, 4, 5, 6]) writeTree(p.app, { [`new-${n}.php`]: `${n}\n` });
    const r = await runCli(['-c', p.file, 'web'], { env: p.env });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(
      /warn: 7 uncommitted change\(s\) in the source: index\.php \(modified\), new-1\.php \(untracked\), new-2\.php \(untracked\), new-3\.php \(untracked\), new-4\.php \(untracked\), and 2 more;/,
    );
    expect(read(path.join(live(p.deployPath), 'REVISION'))).toMatch(/^[0-9a-f]{40}-dirty\n$/);

    const ci = await runCli(['-c', p.file, 'web'], {
      env: { ...p.env, GITHUB_ACTIONS: 'true', GITLAB_CI: '' },
    });
    expect(ci.code, ci.output).toBe(0);
    expect(ci.stdout).toMatch(
      /^::warning title=shipshape::7 uncommitted change\(s\) in the source: index\.php/m,
    );
  });

  it("leaves out what a submodule's own .gitignore ignores, and sends the rest of its checkout", async () => {
    const p = project('submodule');
    const theme = path.join(work, 'submodule-theme');
    writeTree(theme, { 'style.css': 'body {}\n', '.gitignore': 'secret.env\nnode_modules/\n' });
    const t = gitIn(theme);
    t.init();
    t.commitAll('theme');
    p.g.run('-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', theme, 'app/theme');
    p.g.commitAll('app');
    writeTree(path.join(p.app, 'theme'), { 'secret.env': 'PASSWORD=x\n', 'node_modules/dep.js': 'dep\n' });

    const dry = await runCli(['-c', p.file, '--dry-run', '--verbose', 'web'], { env: p.env });
    expect(dry.code, dry.output).toBe(0);
    expect(dry.stdout).toMatch(/left out by git's ignore rules: .*theme\/node_modules\/, theme\/secret\.env/);
    expect(dry.stdout).toContain('    send theme/style.css');
    const r = await runCli(['-c', p.file, 'web'], { env: p.env });
    expect(r.code, r.output).toBe(0);
    const release = snapshot(live(p.deployPath));
    expect(release['theme/style.css']).toMatch(/^file /);
    for (const gone of ['theme/secret.env', 'theme/node_modules', 'theme/.git'])
      expect(release[gone], gone).toBeUndefined();
  });

  it('names a changed file whose name holds a newline, a tab or ESC on one line, in the warning and in EDIRTY', async () => {
    const p = project('dirty-names');
    p.g.commitAll('app');
    writeTree(p.app, { 'a\n::error::b.php': '1\n', 'tab\there.php': '2\n', 'esc\x1b[31mred.php': '3\n' });
    const shown =
      'a\\x0a::error::b.php (untracked), esc\\x1b[31mred.php (untracked), tab\\x09here.php (untracked)';
    const r = await runCli(['-c', p.file, 'web'], {
      env: { ...p.env, GITHUB_ACTIONS: 'true', GITLAB_CI: '' },
    });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`warn: 3 uncommitted change(s) in the source: ${shown}; they are deployed`);
    expect(r.output).not.toMatch(/^\s*::error/m);
    const refused = await runCli(['-c', p.file, '--require-clean', 'web'], { env: p.env });
    expect(refused.code, refused.output).toBe(2);
    expect(refused.stderr).toContain(`(require_clean): 3 uncommitted change(s) in the source: ${shown}\n`);
  });

  it("run from a git hook (GIT_DIR set, relative or not), reads the source's own repository", async () => {
    const p = project('hook-env');
    const sha = p.g.commitAll('app');
    // A relative GIT_DIR, as git sets it for a hook, from the top of the work tree.
    const relative = await runCli(['-c', p.file, '--dry-run', '--verbose', 'web'], {
      env: { ...p.env, GIT_DIR: '.git' },
      cwd: p.top,
    });
    expect(relative.code, relative.output).toBe(0);
    expect(relative.stdout).toContain(`source: ${p.app} at ${sha} (`);
    expect(relative.stdout).not.toContain('send secret.local');
    expect(relative.stdout).toMatch(/left out by git's ignore rules: .*node_modules\//);

    const absolute = {
      ...p.env,
      GIT_DIR: path.join(p.top, '.git'),
      GIT_INDEX_FILE: path.join(p.top, '.git/index'),
    };
    const r = await runCli(['-c', p.file, '--require-clean', 'web'], { env: absolute, cwd: p.top });
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain('uncommitted');
    expect(read(path.join(live(p.deployPath), 'REVISION'))).toBe(`${sha}\n`);
    expect(fs.existsSync(path.join(live(p.deployPath), 'secret.local'))).toBe(false);
  });

  it('--require-clean (or require_clean: true) refuses uncommitted changes with exit 2 before any connection', async () => {
    const p = project('require-clean');
    p.g.commitAll('app');
    fs.appendFileSync(path.join(p.app, 'config/app.php'), '// edited\n');
    const before = await server.connections();
    const flag = await runCli(['-c', p.file, '--require-clean', 'web'], { env: p.env });
    expect(flag.code, flag.output).toBe(2);
    expect(flag.stderr).toContain('EDIRTY');
    expect(flag.stderr).toContain('config/app.php (modified)');
    expect(flag.stderr).toContain('no host was contacted');
    writeConfig(p.top, { ...readConfig(p.file), require_clean: true });
    expect((await runCli(['-c', p.file, 'web'], { env: p.env })).code).toBe(2);
    expect(await server.connections()).toBe(before);
    expect(fs.existsSync(p.deployPath)).toBe(false);

    p.g.commitAll('edit');
    const clean = await runCli(['-c', p.file, 'web'], { env: p.env });
    expect(clean.code, clean.output).toBe(0);

    // A source in no git work tree has no uncommitted changes to commit or stash: it says so.
    const plain = path.join(work, 'require-clean-no-git');
    writeTree(plain, { 'app/index.php': '<?php\n' });
    const file = writeConfig(plain, { ...readConfig(p.file), source: 'app' });
    const connections = await server.connections();
    const noGit = await runCli(['-c', file, 'web'], { env: p.env });
    expect(noGit.code, noGit.output).toBe(2);
    expect(noGit.stderr).toContain(
      `EDIRTY: require_clean needs git to tell what is committed: ${path.join(plain, 'app')} is in no git work tree`,
    );
    expect(noGit.stderr).toContain('hint: Deploy from a git checkout, or leave out --require-clean');
    expect(noGit.stderr).not.toContain('Commit or stash');
    expect(await server.connections()).toBe(connections);
  });

  it('with respect_gitignore: false a shared dir is still seeded from its tracked files alone, on the first deploy', async () => {
    const p = project('seed-unignored', { shared_dirs: ['storage'], respect_gitignore: false });
    writeTree(p.app, { 'storage/app/.gitkeep': '', '.gitignore': '/storage/logs\n' });
    p.g.commitAll('app');
    writeTree(p.app, {
      'storage/logs/laravel.log': 'local.DEBUG: development\n',
      'storage/untracked.txt': 'x\n',
    });
    const r = await runCli(['-c', p.file, 'web'], { env: p.env });
    expect(r.code, r.output).toBe(0);
    const seeded = Object.keys(snapshot(path.join(p.deployPath, 'shared/storage')));
    expect(seeded).toEqual(['app', 'app/.gitkeep']);
  });

  it('an untracked file under a shared dir is no uncommitted change: the upload never sends it', async () => {
    const p = project('shared-untracked', { shared_dirs: ['storage'], require_clean: true });
    writeTree(p.app, { 'storage/.gitkeep': '' });
    p.g.commitAll('app');
    writeTree(p.app, { 'storage/logs/laravel.log': 'local.DEBUG: development\n' });
    const r = await runCli(['-c', p.file, 'web'], { env: p.env });
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain('uncommitted');
    expect(read(path.join(live(p.deployPath), 'REVISION'))).toMatch(/^[0-9a-f]{40}\n$/);
    expect(fs.readdirSync(path.join(p.deployPath, 'shared/storage'))).toEqual(['.gitkeep']);
    // A tracked file edited there is still one: a first deploy seeds a shared dir from tracked files.
    writeTree(p.app, { 'storage/.gitkeep': 'edited\n' });
    expect((await runCli(['-c', p.file, 'web'], { env: p.env })).code).toBe(2);
  });
});

describe('deploy --revision', () => {
  it("run from a git hook (GIT_DIR set), the build's git sees its clean checkout of the commit", async () => {
    const p = project('revision-hook-env', {
      include: ['public/build'],
      hooks: {
        before: {
          upload: [
            {
              run: 'mkdir -p public/build && git rev-parse HEAD > public/build/head && git status --porcelain > public/build/status',
              local: true,
            },
          ],
        },
      },
    });
    const older = p.g.commitAll('v1');
    writeTree(p.app, { 'index.php': '<?php echo "v2";\n' });
    p.g.commitAll('v2');
    const env = { ...p.env, GIT_DIR: path.join(p.top, '.git') };
    const r = await runCli(['-c', p.file, 'web', '--revision', older], { env, cwd: p.top });
    expect(r.code, r.output).toBe(0);
    const current = live(p.deployPath);
    expect(read(path.join(current, 'public/build/head'))).toBe(`${older}\n`);
    expect(read(path.join(current, 'public/build/status'))).toBe('');
    expect(read(path.join(current, 'index.php'))).toBe('<?php echo "v1";\n');
  });

  it('deploys an older commit byte for byte as `git archive` has it, leaving the working tree alone', async () => {
    const p = project('revision', { exclude: ['config/app.php'], shared_dirs: ['storage'] });
    writeTree(p.app, {
      'storage/.gitignore': '*\n!.gitignore\n',
      'bin/run': { content: '#!/bin/sh\n', mode: 0o755 },
    });
    const older = p.g.commitAll('v1');
    writeTree(p.app, { 'index.php': '<?php echo "v2";\n', 'added-in-v2.php': 'v2\n' });
    const newer = p.g.commitAll('v2');
    writeTree(p.app, { 'index.php': '<?php echo "v3, not committed";\n', 'scratch.txt': 'untracked\n' });
    const status = p.g.run('status', '--porcelain');
    const tree = snapshot(p.app);
    const cache = path.join(work, 'revision.cache');
    const env = { ...p.env, SHIPSHAPE_CACHE_DIR: cache };

    const r = await runCli(['-c', p.file, 'web', '--revision', older.slice(0, 12)], { env });
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain('uncommitted');
    const current = live(p.deployPath);
    expect(read(path.join(current, 'REVISION'))).toBe(`${older}\n`);

    const archive = path.join(work, 'revision.archive');
    fs.mkdirSync(archive);
    execFileSync('sh', ['-c', `git -C "${p.top}" archive ${older}:app | tar -x -f - -C "${archive}"`], {
      env,
    });
    fs.rmSync(path.join(archive, 'config/app.php'));
    const modeless = (s: Record<string, string>) =>
      Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.replace(/^(file|dir) \d+/, '$1')]));
    const release = snapshot(fs.realpathSync(current));
    // The shared stage replaced storage with a link into shared/; REVISION is ours. The rest is the commit.
    expect(release['storage']).toBe('link ../../shared/storage');
    const expected = modeless(snapshot(archive));
    for (const k of Object.keys(expected))
      if (k === 'storage' || k.startsWith('storage/')) delete expected[k];
    delete release['storage'];
    delete release['REVISION'];
    expect(modeless(release)).toEqual(expected);
    expect(release['bin/run']).toMatch(/^file 755 /);

    // The working tree is as it was, uncommitted edit and all.
    expect(p.g.run('status', '--porcelain')).toBe(status);
    expect(snapshot(p.app)).toEqual(tree);

    // The next commit goes incrementally, hashed through the cache of git's blobs: what changed
    // between the commits is sent, and nothing of the shared path.
    const plan = await runCli(['-c', p.file, '--dry-run', '--verbose', 'web', '--revision', newer], { env });
    expect(plan.code, plan.output).toBe(0);
    const sent = [...plan.stdout.matchAll(/^ {4}send (.*)$/gm)].map((m) => m[1]);
    expect(sent.sort()).toEqual(['added-in-v2.php', 'index.php']);
    const next = await runCli(['-c', p.file, 'web', '--revision', newer], { env });
    expect(next.code, next.output).toBe(0);
    expect(next.stdout).toMatch(/incremental upload from \S+ \(hard links\)/);
    expect(read(path.join(live(p.deployPath), 'index.php'))).toBe('<?php echo "v2";\n');
    expect(read(path.join(live(p.deployPath), 'REVISION'))).toBe(`${newer}\n`);
    const cached = fs.readdirSync(path.join(cache, 'hashes')).map((f) => read(path.join(cache, 'hashes', f)));
    expect(cached.join('')).toContain(p.g.run('rev-parse', `${older}:app/index.php`));

    const again = await runCli(['-c', p.file, '--dry-run', '--verbose', 'web', '--revision', newer], { env });
    expect([...again.stdout.matchAll(/^ {4}send (.*)$/gm)]).toEqual([]);
    expect(again.stdout).toContain('  send:   0 file(s)');
    expect(releasesOf(p.deployPath).length).toBe(2);
  });

  it('runs local build steps (and `after: success/failure`) in a clean checkout of the commit, removed afterwards, also when the build fails', async () => {
    const p = project('revision-build', {
      include: ['public/build'],
      hooks: {
        before: {
          upload: [
            {
              run: `pwd > "${path.join(work, 'build-dir')}" && mkdir -p public/build && cat index.php > public/build/seen && git status --porcelain > public/build/status`,
              local: true,
            },
          ],
        },
        after: {
          success: [
            {
              run: `pwd > "${path.join(work, 'success-dir')}" && cat index.php > "${path.join(work, 'success-seen')}"`,
              local: true,
            },
          ],
        },
      },
    });
    const sha = p.g.commitAll('v1');
    fs.writeFileSync(path.join(p.app, 'index.php'), '<?php echo "dirty";\n');
    const r = await runCli(['-c', p.file, 'web', '--revision', 'main'], { env: p.env });
    expect(r.code, r.output).toBe(0);
    const current = live(p.deployPath);
    // The build saw the commit, not the developer's edit, in a clean checkout of its own.
    expect(read(path.join(current, 'public/build/seen'))).toBe('<?php echo "v1";\n');
    expect(read(path.join(current, 'public/build/status'))).toBe('');
    expect(read(path.join(current, 'REVISION'))).toBe(`${sha}\n`);
    expect(fs.existsSync(path.join(current, '.git'))).toBe(false);
    const buildDir = read(path.join(work, 'build-dir')).trim();
    expect(buildDir.startsWith(p.top)).toBe(false);
    expect(fs.existsSync(buildDir)).toBe(false);
    // The end-of-run step ran there too, before the checkout went.
    expect(read(path.join(work, 'success-dir')).trim()).toBe(buildDir);
    expect(read(path.join(work, 'success-seen'))).toBe('<?php echo "v1";\n');
    expect(p.g.run('worktree', 'list').split('\n')).toHaveLength(1);
    expect(read(path.join(p.app, 'index.php'))).toBe('<?php echo "dirty";\n');
    expect(fs.existsSync(path.join(p.app, 'public/build'))).toBe(false);

    writeConfig(p.top, {
      ...readConfig(p.file),
      hooks: {
        before: { upload: [{ run: `pwd > "${path.join(work, 'failed-dir')}"; exit 3`, local: true }] },
        after: {
          failure: [
            {
              run: `pwd > "${path.join(work, 'failure-dir')}" && cat index.php > "${path.join(work, 'failure-seen')}"`,
              local: true,
            },
          ],
        },
      },
    });
    const failed = await runCli(['-c', p.file, 'web', '--revision', 'main'], { env: p.env });
    expect(failed.code, failed.output).toBe(1);
    const failedDir = read(path.join(work, 'failed-dir')).trim();
    expect(fs.existsSync(failedDir)).toBe(false);
    // `after: failure` ran in the checkout whose build failed, not in the developer's tree.
    expect(read(path.join(work, 'failure-dir')).trim()).toBe(failedDir);
    expect(read(path.join(work, 'failure-seen'))).toBe('<?php echo "v1";\n');
    expect(p.g.run('worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('refuses a commit holding a name that is not UTF-8, as a deploy of the directory does; nothing goes live', async () => {
    const p = project('revision-latin1');
    fs.writeFileSync(Buffer.from(path.join(p.app, 'lat\xe9.txt'), 'latin1'), 'latin-1 name\n');
    p.g.commitAll('v1');
    for (const args of [['--revision', 'HEAD'], []]) {
      const r = await runCli(['-c', p.file, 'web', ...args], { env: p.env });
      expect(r.code, r.output).toBe(1);
      expect(r.stderr).toContain('lat\\xe9.txt: its name is not valid UTF-8');
    }
    expect(fs.existsSync(live(p.deployPath))).toBe(false);
  });

  it("uploads what `git archive` gives with a local step, whatever the developer's sparse checkout and autocrlf; not deploy.yml", async () => {
    const p = project('revision-faithful');
    writeTree(p.app, {
      'big/data.bin': 'left out of the sparse checkout\n',
      'lines.txt': 'l1\nl2\n',
      'run.bat': 'echo one\necho two\n',
      VERSION: '$Format:%H$\n',
      '.gitattributes': '*.bat text eol=crlf\nVERSION export-subst\n',
    });
    // deploy.yml inside the source, committed with it: never part of the release.
    const file = writeConfig(p.app, {
      ...readConfig(p.file),
      source: '.',
      hooks: {
        before: {
          upload: [{ run: 's=$(git status --porcelain) && printf %s "$s" > build-status', local: true }],
        },
      },
    });
    const sha = p.g.commitAll('v1');
    p.g.run('sparse-checkout', 'set', '--no-cone', '/*', '!/app/big/');
    p.g.run('config', 'core.autocrlf', 'true');
    expect(fs.existsSync(path.join(p.app, 'big'))).toBe(false);

    const r = await runCli(['-c', file, 'web', '--revision', sha], { env: p.env });
    expect(r.code, r.output).toBe(0);
    const current = fs.realpathSync(live(p.deployPath));
    const committed = p.g
      .run('ls-tree', '-r', '--name-only', 'HEAD:app')
      .split('\n')
      .filter((f) => f !== 'deploy.yml');
    const released = Object.entries(snapshot(current))
      .filter(([, v]) => v.startsWith('file'))
      .map(([k]) => k);
    expect(released.sort()).toEqual([...committed, 'REVISION', 'build-status'].sort());
    // git archive as a server's git runs it: this machine's autocrlf is not the repository's.
    const archive = path.join(work, 'revision-faithful.archive');
    fs.mkdirSync(archive);
    execFileSync(
      'sh',
      ['-c', `git -C "${p.top}" -c core.autocrlf=false archive ${sha} app | tar -x -f - -C "${archive}"`],
      { env: p.env },
    );
    for (const f of committed)
      expect(
        fs.readFileSync(path.join(current, f)).equals(fs.readFileSync(path.join(archive, 'app', f))),
        f,
      ).toBe(true);
    expect(read(path.join(current, 'lines.txt'))).toBe('l1\nl2\n');
    // The committed attribute converts it, as git archive (Capistrano, Deployer) does.
    expect(read(path.join(current, 'run.bat'))).toBe('echo one\r\necho two\r\n');
    expect(read(path.join(current, 'VERSION'))).toBe(`${sha}\n`);
    // The build saw a clean checkout of the whole commit.
    expect(read(path.join(current, 'build-status'))).toBe('');
  });

  it('refuses a revision that names no commit with exit 2 before any connection', async () => {
    const p = project('revision-bad');
    p.g.commitAll('v1');
    const before = await server.connections();
    const r = await runCli(['-c', p.file, 'web', '--revision', 'no-such-tag'], { env: p.env });
    expect(r.code, r.output).toBe(2);
    expect(r.stderr).toContain('EREVISION');
    // `revision:` in deploy.yml is the same setting as the flag.
    writeConfig(p.top, { ...readConfig(p.file), revision: 'no-such-branch' });
    const fromFile = await runCli(['-c', p.file, 'web'], { env: p.env });
    expect(fromFile.code, fromFile.output).toBe(2);
    expect(fromFile.stderr).toContain('cannot deploy revision `no-such-branch`');
    expect(await server.connections()).toBe(before);
  });
});

function readConfig(file: string): Record<string, unknown> {
  return parse(read(file)) as Record<string, unknown>;
}
