import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// duplicates: the same support imports as incremental.test.ts and lifecycle.test.ts (deploy e2e files).
import {
  logOf,
  releasesOf,
  runCli,
  snapshot,
  sshHost,
  sshProject,
  writeConfig,
  writeTree,
} from '../support/project.js';
import type { SshdServer } from '../support/sshd.js';
import { useSshd } from '../support/sshd-fixture.js';

let server: SshdServer;
let work: string;
/** A `tar` earlier in the sessions' PATH that fails while this file exists: a server-side fault, not a mock of SSH. */
let failTarFlag: string;

useSshd('shipshape-e2e-', (fx) => ({ server, work } = fx), {
  fakes: (dir) => {
    failTarFlag = path.join(dir, 'fail-tar');
    return {
      tar: `#!/bin/sh\nif [ -e '${failTarFlag}' ]; then echo 'tar: simulated write error' >&2; exit 2; fi\nexec /bin/tar "$@"\n`,
    };
  },
});

/** The app every test here deploys: modes, a symlink, an excluded file and directory, shared paths. */
const APP = {
  'index.php': '<?php echo "v1";\n',
  'bin/run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o750 },
  'config/app.php': '<?php return [];\n',
  'link-to-config': { link: 'config/app.php' },
  'storage/logs/.keep': '',
  'node_modules/big/index.js': 'excluded by .deployignore\n',
  'secret.key': 'excluded by config\n',
  '.deployignore': 'node_modules/\n',
  '.env': 'APP_ENV=from-release\n',
};

function app(name: string): string {
  const dir = path.join(work, name, 'app');
  writeTree(dir, APP);
  return dir;
}

function project(name: string, extra: Record<string, unknown> = {}, hostExtra: Record<string, unknown> = {}) {
  // Production's own .env, put there before the first deploy (deploy setup --put does it).
  return sshProject(server, work, name, APP, {
    config: { exclude: ['secret.key'], shared_dirs: ['storage'], shared_files: ['.env'], ...extra },
    host: hostExtra,
    shared: { '.env': 'APP_ENV=production\n' },
  });
}

const current = (deployPath: string) => fs.readlinkSync(path.join(deployPath, 'current'));

describe('deploy over a real sshd', () => {
  it('creates releases, switches current relatively, uploads byte-identical files and links shared paths', async () => {
    const { source, deployPath, file } = project('basic');
    const first = await runCli(['-c', file, 'web']);
    expect(first.code, first.output).toBe(0);
    const second = await runCli(['-c', file, 'web']);
    expect(second.code, second.output).toBe(0);

    const releases = releasesOf(deployPath);
    expect(releases).toHaveLength(2);
    expect(current(deployPath)).toBe(`releases/${releases[1]}`);

    const release = path.join(deployPath, 'releases', releases[1]!);
    const uploaded = snapshot(release);
    const local = snapshot(source);
    for (const p of ['index.php', 'bin', 'bin/run.sh', 'config/app.php', 'link-to-config']) {
      expect(uploaded[p], p).toBe(local[p]);
    }
    expect(uploaded['bin/run.sh']).toMatch(/^file 750 /);
    expect(uploaded['link-to-config']).toBe('link config/app.php');
    expect(uploaded['node_modules']).toBeUndefined();
    expect(uploaded['secret.key']).toBeUndefined();
    expect(uploaded['deploy.yml']).toBeUndefined();

    expect(uploaded['storage']).toBe('link ../../shared/storage');
    expect(uploaded['.env']).toBe('link ../../shared/.env');
    // Nothing of the local copies of shared paths reaches the server: not the developer's .env,
    // not what the local storage/ holds (the source is not a git work tree, so nothing is tracked).
    expect(fs.readFileSync(path.join(deployPath, 'current/.env'), 'utf8')).toBe('APP_ENV=production\n');
    expect(fs.existsSync(path.join(deployPath, 'shared/storage'))).toBe(true);
    expect(fs.existsSync(path.join(deployPath, 'shared/storage/logs/.keep'))).toBe(false);
    expect(
      logOf(deployPath)
        .filter((l) => l.status === 'success')
        .map((l) => l.name),
    ).toEqual(releases);
  });

  it('writes REVISION with the git commit of the source, marked -dirty when it has changes', async () => {
    const { source, deployPath, file } = project('revision');
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', source, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
        encoding: 'utf8',
      }).trim();
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'app');
    const head = git('rev-parse', 'HEAD');
    expect((await runCli(['-c', file, 'web'])).code).toBe(0);
    expect(fs.readFileSync(path.join(deployPath, 'current/REVISION'), 'utf8')).toBe(`${head}\n`);
    fs.appendFileSync(path.join(source, 'index.php'), '// edited\n');
    expect((await runCli(['-c', file, 'web'])).code).toBe(0);
    expect(fs.readFileSync(path.join(deployPath, 'current/REVISION'), 'utf8')).toBe(`${head}-dirty\n`);
    expect(logOf(deployPath).at(-1)).toMatchObject({ status: 'success', revision: `${head}-dirty` });
  });

  it('keeps exactly keep_releases releases, current among them', async () => {
    const { deployPath, file } = project('keep', { keep_releases: 3 });
    for (let i = 0; i < 5; i++) {
      const r = await runCli(['-c', file, 'web']);
      expect(r.code, r.output).toBe(0);
    }
    const releases = releasesOf(deployPath);
    expect(releases).toHaveLength(3);
    expect(current(deployPath)).toBe(`releases/${releases[2]}`);
  });

  it('a failure in upload leaves current, removes the release, frees the lock, logs failed, exits 1', async () => {
    const { deployPath, file } = project('upload-fails');
    expect((await runCli(['-c', file, 'web'])).code).toBe(0);
    const before = { current: current(deployPath), releases: releasesOf(deployPath) };
    fs.writeFileSync(failTarFlag, '');
    let r;
    try {
      r = await runCli(['-c', file, 'web']);
    } finally {
      fs.rmSync(failTarFlag);
    }
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain('web: stage `upload` failed');
    expect(r.stderr).toContain('tar --no-unquote -x');
    expect(r.stderr).toContain('tar: simulated write error');
    expect(current(deployPath)).toBe(before.current);
    expect(releasesOf(deployPath)).toEqual(before.releases);
    expect(fs.existsSync(path.join(deployPath, '.deploy/lock'))).toBe(false);
    expect(logOf(deployPath).at(-1)?.status).toBe('failed');
  });

  it('a missing required shared file fails before the switch with the list of files', async () => {
    const { source, deployPath, file } = project('missing-shared', {
      shared_files: ['.env', 'config/keys.json'],
    });
    fs.rmSync(path.join(deployPath, 'shared/.env'));
    // The local copy never counts: shared files come from the server, never from the upload.
    expect(fs.existsSync(path.join(source, '.env'))).toBe(true);
    const r = await runCli(['-c', file, 'web']);
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain('ESHAREDMISSING');
    expect(r.stderr).toContain('.env, config/keys.json');
    expect(fs.existsSync(path.join(deployPath, 'current'))).toBe(false);
    expect(releasesOf(deployPath)).toEqual([]);
    expect(fs.existsSync(path.join(deployPath, '.deploy/lock'))).toBe(false);
    expect(logOf(deployPath).at(-1)?.status).toBe('failed');
  });

  it('two deploys at the same moment: one succeeds, the other exits 3 naming the holder', async () => {
    // The winner holds the lock for a while, so the two runs overlap however fast the machine is.
    const { deployPath, file } = project('race', { hooks: { before: { symlink: ['sleep 3'] } } });
    const [a, b] = await Promise.all([runCli(['-c', file, 'web']), runCli(['-c', file, 'web'])]);
    expect([a.code, b.code].sort()).toEqual([0, 3]);
    const loser = a.code === 3 ? a : b;
    expect(loser.stderr).toMatch(/ELOCKED: web: deploy lock held by \S+@\S+ \(pid \d+/);
    expect(loser.stderr).toContain(`deploy -c ${file} unlock web`);
    expect(releasesOf(deployPath)).toHaveLength(1);
    expect(fs.existsSync(path.join(deployPath, '.deploy/lock'))).toBe(false);
  });

  it('paths with spaces, quotes and $(…) work and nothing in them is executed', async () => {
    const base = path.join(work, 'quoting');
    const deployPath = path.join(base, `srv dir/it's $(touch ${base}/pwned1) \`touch ${base}/pwned2\``);
    const source = app('quoting');
    const sharedDir = `data $(touch pwned3) 'q'`;
    writeTree(source, { [`${sharedDir}/keep.txt`]: 'kept\n' });
    const file = writeConfig(base, {
      application: 'quoting',
      source: 'app',
      // seed_shared: the uploaded copy seeds shared/ on the first deploy, through the quoted path.
      shared_dirs: [{ path: sharedDir, seed_shared: true }],
      hosts: { web: sshHost(server, deployPath) },
    });
    const r = await runCli(['-c', file, 'web'], { cwd: base });
    expect(r.code, r.output).toBe(0);
    expect(fs.readFileSync(path.join(deployPath, 'current', sharedDir, 'keep.txt'), 'utf8')).toBe('kept\n');
    expect(fs.lstatSync(path.join(deployPath, 'current', sharedDir)).isSymbolicLink()).toBe(true);
    const home = path.join(server.dir, 'home');
    for (const p of [
      path.join(base, 'pwned1'),
      path.join(base, 'pwned2'),
      path.join(home, 'pwned3'),
      path.join(deployPath, 'current', 'pwned3'),
      '/root/pwned3',
      '/pwned3',
    ]) {
      expect(fs.existsSync(p), p).toBe(false);
    }
  });

  it('a bad config exits 2 with file:line:column and opens no connection', async () => {
    const dir = path.join(work, 'bad-config');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'deploy.yml');
    fs.writeFileSync(
      file,
      `application: bad\nkeep_release: 2\nhosts:\n  web:\n    hostname: ${server.host}\n    port: ${server.port}\n    deploy_path: relative/path\n`,
    );
    const before = await server.connections();
    const r = await runCli(['-c', file, 'web']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${file}:2:1: keep_release: unknown key \`keep_release\` — did you mean \`keep_releases\`?`,
    );
    expect(r.stderr).toContain(`${file}:7:18: hosts.web.deploy_path: must be an absolute path`);
    expect(await server.connections()).toBe(before);
  });

  it('an unknown selector exits 2 listing the choices, before connecting', async () => {
    const { file } = project('selector', { default_selector: undefined });
    const before = await server.connections();
    const r = await runCli(['-c', file, 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('selector `nope` matches no host');
    expect(r.stderr).toContain('Choose one of: web');
    expect(await server.connections()).toBe(before);
  });
});
