import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentOf } from '../../../src/source/source-info.js';
import { hashEntries } from '../../../src/source/hash.js';
import { loadHashCache } from '../../../src/source/hash-cache.js';
import { locateGit } from '../../../src/source/git.js';
import { resolveCommit } from '../../../src/source/git-commit.js';
import { addWorktree } from '../../../src/source/git-worktree.js';
import { readCommitSource, readTreeSource } from '../../../src/source/local-source.js';
import { packTar } from '../../../src/source/tar.js';
import { gitIn, isolatedGitEnv } from '../../support/git.js';
import { snapshot, tmpDir, writeTree } from '../../support/project.js';

const work = tmpDir('shipshape-git-source-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

let saved: NodeJS.ProcessEnv;
beforeEach(() => (saved = { ...process.env }));
afterEach(() => {
  process.env = saved;
});

/** A repository whose source is `app/`, committed, with the machine's git configuration shut out. */
function repo(name: string, files: Parameters<typeof writeTree>[1], globalConfig = '') {
  const top = path.join(work, name);
  writeTree(top, files);
  Object.assign(process.env, isolatedGitEnv(top, globalConfig));
  const g = gitIn(top);
  g.init();
  return { top, app: path.join(top, 'app'), g };
}

const paths = (entries: readonly { path: string }[]) => entries.map((e) => e.path);

describe('a source in a git work tree', () => {
  it('leaves out what git ignores: nested .gitignore files, .git/info/exclude and the global excludes file', async () => {
    const globalIgnore = path.join(work, 'global-ignore');
    fs.writeFileSync(globalIgnore, '*.swp\n');
    const { top, app, g } = repo(
      'ignores',
      {
        'app/.gitignore': 'node_modules/\nsecret.local\n/public/hot\n',
        'app/index.php': 'v1\n',
        'app/node_modules/x/i.js': 'dep\n',
        'app/secret.local': 'password\n',
        'app/public/hot': 'http://localhost:5173\n',
        'app/public/app.css': 'body{}\n',
        'app/lib/.gitignore': '*.cache\n',
        'app/lib/a.php': 'a\n',
        'app/lib/a.cache': 'cached\n',
        'app/index.php.swp': 'editor\n',
        'app/local.txt': 'excluded through info/exclude\n',
        'app/forced.log': 'tracked although ignored\n',
      },
      `[core]\n\texcludesFile = ${globalIgnore}\n`,
    );
    fs.appendFileSync(path.join(top, '.git/info/exclude'), 'app/local.txt\napp/*.log\n');
    g.run('add', '-f', 'app/forced.log');
    g.commitAll('one');
    fs.writeFileSync(path.join(app, 'untracked.php'), 'new\n');

    const source = await readTreeSource(app, { exclude: [] });
    expect(paths(source.entries).sort()).toEqual(
      [
        '.gitignore',
        'forced.log',
        'index.php',
        'lib',
        'lib/.gitignore',
        'lib/a.php',
        'public',
        'public/app.css',
        'untracked.php',
      ].sort(),
    );
    expect([...source.git!.ignored].sort()).toEqual(
      ['index.php.swp', 'lib/a.cache', 'local.txt', 'node_modules/', 'public/hot', 'secret.local'].sort(),
    );
    const tracked = Object.fromEntries(source.entries.map((e) => [e.path, e.tracked]));
    expect(tracked).toMatchObject({
      'index.php': true,
      lib: true,
      'forced.log': true,
      'untracked.php': false,
    });

    // respect_gitignore: false is the old behaviour: everything but .git.
    const all = await readTreeSource(app, { exclude: [], respect_gitignore: false });
    expect(paths(all.entries)).toEqual(
      expect.arrayContaining(['secret.local', 'node_modules/x/i.js', 'public/hot']),
    );
    expect(all.git!.ignored).toEqual([]);
  });

  it('uploads `include` paths although git ignores them, and `exclude` still wins over include', async () => {
    const { app, g } = repo('include', {
      'app/.gitignore': '/public/build\n/var/\n',
      'app/public/index.php': 'front\n',
      'app/public/build/app.js': 'built\n',
      'app/public/build/app.js.map': 'map\n',
      'app/var/cache/big.bin': 'cache\n',
      'app/var/keep/this.txt': 'wanted\n',
    });
    g.commitAll('one');
    const source = await readTreeSource(app, {
      exclude: ['*.map'],
      include: ['public/build', 'var/keep/this.txt', 'var/nothing-here'],
    });
    expect(paths(source.entries)).toEqual([
      '.gitignore',
      'public',
      'public/build',
      'public/build/app.js',
      'public/index.php',
      'var',
      'var/keep',
      'var/keep/this.txt',
    ]);
    expect(source.git!.ignored).toEqual(['var/']);
  });

  it('names uncommitted changes the upload carries, and marks REVISION -dirty only for them', async () => {
    const { app, g } = repo('dirty', {
      'app/index.php': 'v1\n',
      'app/notes.md': 'excluded\n',
      'app/.gitignore': 'tmp/\n',
    });
    const head = g.commitAll('one');
    const clean = await readTreeSource(app, { exclude: ['notes.md'] });
    expect(clean.revision).toBe(head);
    expect(clean.git!.changes).toEqual([]);

    fs.writeFileSync(path.join(app, 'notes.md'), 'edited, but not uploaded\n');
    fs.mkdirSync(path.join(app, 'tmp'));
    fs.writeFileSync(path.join(app, 'tmp/x'), 'ignored\n');
    expect((await readTreeSource(app, { exclude: ['notes.md'] })).revision).toBe(head);

    fs.writeFileSync(path.join(app, 'index.php'), 'v2\n');
    fs.mkdirSync(path.join(app, 'new'));
    fs.writeFileSync(path.join(app, 'new/file.php'), 'x\n');
    const dirty = await readTreeSource(app, { exclude: ['notes.md'] });
    expect(dirty.revision).toBe(`${head}-dirty`);
    expect(dirty.git!.changes).toEqual([
      { path: 'index.php', kind: 'modified' },
      { path: 'new/', kind: 'untracked' },
    ]);
  });

  it('outside a git work tree nothing changes: no git summary, no tracked flags', async () => {
    const dir = path.join(work, 'plain');
    writeTree(dir, { '.gitignore': 'secret\n', secret: 'uploaded as before\n' });
    const source = await readTreeSource(dir, { exclude: [] });
    expect(paths(source.entries)).toEqual(['.gitignore', 'secret']);
    expect(source.git).toBeUndefined();
    expect(source.entries.every((e) => e.tracked === undefined)).toBe(true);
  });
});

describe('a commit read from git objects', () => {
  it('is byte for byte the tree `git archive` gives (export-ignore, export-subst), minus exclude and the commit’s .deployignore', async () => {
    const long = 'd'.repeat(120);
    const { top, app, g } = repo('commit', {
      'app/index.php': 'v1\n',
      'app/bin/run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
      'app/big.bin': 'x'.repeat(1_500_000),
      [`app/${long}/${'f'.repeat(110)}.txt`]: 'long\n',
      'app/link': { link: 'index.php' },
      'app/empty': '',
      'app/.deployignore': 'docs/\n',
      'app/docs/readme.md': 'not deployed\n',
      'app/secret.key': 'excluded by config\n',
      'top-level.txt': 'outside the source\n',
      // What git archive does besides copying blobs, by attributes above and in the source.
      '.gitattributes': 'app/tests export-ignore\n',
      'app/.gitattributes':
        '/fixtures/ export-ignore\nVERSION export-subst\n*.key export-subst\n*.bat text eol=crlf\nid.txt ident\n',
      // Converted by git archive as the attributes say; a checkout of this machine's settings is not.
      'app/run.bat': 'echo one\necho two\n',
      'app/id.txt': '$Id$\n',
      'app/tests/unit.php': 'not exported\n',
      'app/fixtures/big.sql': 'not exported\n',
      'app/VERSION': '$Format:%H$\n',
    });
    const old = g.commitAll('one');
    // Newer work, committed and not: the commit read must not see any of it.
    fs.writeFileSync(path.join(app, 'index.php'), 'v2\n');
    g.commitAll('two');
    fs.writeFileSync(path.join(app, 'index.php'), 'v3, uncommitted\n');
    fs.writeFileSync(path.join(app, 'untracked.txt'), 'x\n');

    const commit = await resolveCommit((await locateGit(app))!, old.slice(0, 10));
    expect(commit.sha).toBe(old);
    const source = await readCommitSource(commit, { exclude: ['secret.key'] }, app);
    expect(source.revision).toBe(old);
    expect(source.entries.every((e) => e.tracked)).toBe(true);

    const archive = path.join(work, 'commit-archive');
    fs.mkdirSync(archive);
    // The commit, not its tree `old:app`: attributes apply from the top and $Format needs a commit.
    execFileSync('sh', [
      '-c',
      `git -C "${top}" archive ${old} app | tar -x -f - -C "${archive}" --strip-components=1`,
    ]);
    for (const gone of ['docs', 'secret.key']) fs.rmSync(path.join(archive, gone), { recursive: true });

    const ours = path.join(work, 'commit-ours');
    fs.mkdirSync(ours);
    const hashes = new Map<string, string>();
    const tar = path.join(work, 'commit.tar');
    await pipeline(
      packTar(contentOf(source), source.entries, [], { onHash: (p, h) => hashes.set(p, h) }),
      fs.createWriteStream(tar),
    );
    execFileSync('tar', ['-x', '-p', '-f', tar, '-C', ours]);
    // git archive writes 0664/0775 (tar.umask 002); a deploy writes what a checkout makes, 0644/0755.
    const modeless = (s: Record<string, string>) =>
      Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.replace(/^(file|dir) \d+/, '$1')]));
    expect(modeless(snapshot(ours))).toEqual(modeless(snapshot(archive)));
    expect(snapshot(ours)['bin/run.sh']).toMatch(/^file 755 /);
    expect(snapshot(ours)['index.php']).toMatch(/^file 644 /);
    expect(fs.readFileSync(path.join(ours, 'index.php'), 'utf8')).toBe('v1\n');
    expect(fs.readFileSync(path.join(ours, 'VERSION'), 'utf8')).toBe(`${old}\n`);
    expect(fs.readFileSync(path.join(ours, 'run.bat'), 'utf8')).toBe('echo one\r\necho two\r\n');
    expect(fs.readFileSync(path.join(ours, 'id.txt'), 'utf8')).toBe(
      `$Id: ${g.run('rev-parse', `${old}:app/id.txt`)} $\n`,
    );
    for (const gone of ['tests', 'fixtures']) expect(fs.existsSync(path.join(ours, gone))).toBe(false);

    const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
    expect(hashes.get('big.bin')).toBe(sha('x'.repeat(1_500_000)));
    const files = source.entries.filter((e) => e.type === 'file');
    const viaHash = await contentOf(source).hash(files);
    expect(Object.fromEntries(viaHash)).toEqual(Object.fromEntries(hashes));
  });

  it('leaves out a directory `git archive` does not write (only empty trees beneath), and keeps one whose only file is export-ignored or excluded, as git archive does', async () => {
    const { top, app, g } = repo('empty-trees', {
      'app/index.php': 'v1\n',
      'app/.gitattributes': 'conf/local.ini export-ignore\n',
      'app/conf/local.ini': 'not exported\n',
      'app/keep/only.secret': 'excluded by config\n',
    });
    const base = g.commitAll('one');
    // Trees no porcelain command makes: empty, holding only an empty one, and a submodule's commit.
    const crafted = execFileSync(
      'sh',
      [
        '-c',
        `set -e
empty=$(git mktree < /dev/null)
nest=$(printf '040000 tree %s\\tinner\\n' "$empty" | git mktree)
app=$( (git ls-tree "$1:app"; printf '040000 tree %s\\tempty\\n040000 tree %s\\tnest\\n160000 commit %s\\tsub\\n' "$empty" "$nest" "$1") | git mktree --missing)
root=$( (git ls-tree "$1" | grep -v '\tapp$' || :; printf '040000 tree %s\\tapp\\n' "$app") | git mktree --missing)
git commit-tree "$root" -p "$1" -m crafted`,
        'sh',
        base,
      ],
      {
        cwd: top,
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@example.com',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@example.com',
        },
      },
    ).trim();
    const commit = await resolveCommit((await locateGit(app))!, crafted);
    const source = await readCommitSource(commit, { exclude: ['keep/only.secret'] }, app);

    const archive = path.join(work, 'empty-trees-archive');
    fs.mkdirSync(archive);
    execFileSync('sh', [
      '-c',
      `git -C "${top}" archive ${crafted} app | tar -x -f - -C "${archive}" --strip-components=1`,
    ]);
    fs.rmSync(path.join(archive, 'keep/only.secret'));
    const ours = path.join(work, 'empty-trees-ours');
    fs.mkdirSync(ours);
    const tar = path.join(work, 'empty-trees.tar');
    await pipeline(packTar(contentOf(source), source.entries, []), fs.createWriteStream(tar));
    execFileSync('tar', ['-x', '-p', '-f', tar, '-C', ours]);
    const modeless = (s: Record<string, string>) =>
      Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.replace(/^(file|dir) \d+/, '$1')]));
    expect(modeless(snapshot(ours))).toEqual(modeless(snapshot(archive)));
    expect(Object.keys(snapshot(ours)).sort()).toEqual([
      '.gitattributes',
      'conf',
      'index.php',
      'keep',
      'sub',
    ]);
  });

  it('gives local build steps a checkout holding what `git archive` holds: export-ignore gone, export-subst expanded', async () => {
    const { app, g } = repo('worktree-export', {
      '.gitattributes': 'app/tests export-ignore\n',
      'app/.gitattributes': 'VERSION export-subst\n',
      'app/index.php': 'v1\n',
      'app/tests/unit.php': 'not exported\n',
      'app/VERSION': '$Format:%H$\n',
    });
    const sha = g.commitAll('one');
    const tree = await addWorktree(await resolveCommit((await locateGit(app))!, sha));
    try {
      const built = path.join(tree.dir, 'app');
      expect(fs.readFileSync(path.join(built, 'VERSION'), 'utf8')).toBe(`${sha}\n`);
      expect(fs.existsSync(path.join(built, 'tests'))).toBe(false);
      expect(fs.readFileSync(path.join(built, 'index.php'), 'utf8')).toBe('v1\n');
      // The build's own git sees a clean checkout of the commit (git describe --dirty, setuptools_scm).
      expect(execFileSync('git', ['-C', built, 'status', '--porcelain'], { encoding: 'utf8' })).toBe('');
    } finally {
      await tree.remove();
    }
    // The developer's tree is left as it was.
    expect(fs.readFileSync(path.join(app, 'VERSION'), 'utf8')).toBe('$Format:%H$\n');
    expect(fs.existsSync(path.join(app, 'tests', 'unit.php'))).toBe(true);
  });

  it('hashes an export-subst file afresh on every deploy: the same commit expands anew when its tags change', async () => {
    const { app, g } = repo('subst-cache', {
      'app/.gitattributes': 'VERSION export-subst\n',
      'app/VERSION': '$Format:%(describe)$\n',
      'app/a': '1\n',
    });
    g.commitAll('one');
    g.run('tag', '-a', '-m', 'v', 'v1.0');
    writeTree(app, { b: '2\n' });
    g.commitAll('two');
    writeTree(app, { c: '3\n' });
    const sha = g.commitAll('three');
    process.env.SHIPSHAPE_CACHE_DIR = path.join(work, 'subst-cache.cache');
    const hashed = async () => {
      const source = await readCommitSource(
        await resolveCommit((await locateGit(app))!, sha),
        { exclude: [] },
        app,
      );
      const cache = await loadHashCache(source.root);
      const hashes = await hashEntries(
        contentOf(source),
        source.entries.filter((e) => e.type === 'file'),
        cache,
      );
      await cache.save();
      return hashes.get('VERSION');
    };
    const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(await hashed()).toBe(sha256('v1.0-2-g' + sha.slice(0, 7) + '\n'));
    // A tag on its parent: the same commit, an expansion of the same length.
    g.run('tag', '-a', '-m', 'v', 'v1.1', `${sha}~1`);
    expect(await hashed()).toBe(sha256('v1.1-1-g' + sha.slice(0, 7) + '\n'));
  });

  it('applies the commit’s .deployignore with local build steps too, when export-ignore takes it out of the checkout', async () => {
    const { app, g } = repo('deployignore-export', {
      'app/.gitattributes': '/.deployignore export-ignore\n',
      'app/.deployignore': 'tests/\nsecret.txt\n',
      'app/tests/unit.php': 'not deployed\n',
      'app/secret.txt': 'not deployed\n',
      'app/index.php': 'v1\n',
    });
    const sha = g.commitAll('one');
    const commit = await resolveCommit((await locateGit(app))!, sha);
    const direct = await readCommitSource(commit, { exclude: [] }, app);
    const tree = await addWorktree(commit);
    try {
      const built = path.join(tree.dir, 'app');
      const fromBuild = await readTreeSource(built, { exclude: [] }, { commit });
      expect(paths(fromBuild.entries).sort()).toEqual(paths(direct.entries).sort());
      expect(paths(fromBuild.entries).sort()).toEqual(['.gitattributes', 'index.php']);
    } finally {
      await tree.remove();
    }
  });

  it('refuses a ref that names no commit, and a source directory the commit does not have', async () => {
    const { app, g } = repo('refs', { 'other/x': '1\n' });
    g.commitAll('one');
    fs.mkdirSync(app);
    const loc = (await locateGit(app))!;
    await expect(resolveCommit(loc, 'no-such-branch')).rejects.toMatchObject({
      code: 'EREVISION',
      exitCode: 2,
    });
    await expect(resolveCommit(loc, '--output=/tmp/x')).rejects.toMatchObject({ code: 'EREVISION' });
    const c = await resolveCommit(loc, 'main');
    await expect(readCommitSource(c, { exclude: [] }, app)).rejects.toMatchObject({ code: 'EREVISION' });
  });
});
