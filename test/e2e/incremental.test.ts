import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
// duplicates: the same support imports as deploy.test.ts and lifecycle.test.ts (deploy e2e files).
import {
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
import { startTcpProxy } from '../support/tcp-proxy.js';

let server: SshdServer;
let work: string;
let env: NodeJS.ProcessEnv;

useSshd('shipshape-incr-', (fx) => {
  ({ server, work } = fx);
  // A private hash cache, so runs neither read nor leave one in the user's ~/.cache.
  env = { SHIPSHAPE_CACHE_DIR: path.join(work, 'cache') };
});

function project(name: string, extra: Record<string, unknown> = {}) {
  return sshProject(
    server,
    work,
    name,
    {
      'index.php': '<?php echo "v1";\n',
      'same-size.php': '<?php return 1;\n',
      'grows.php': 'short\n',
      'bin/run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o750 },
      'mode-only.sh': { content: 'echo mode\n', mode: 0o644 },
      'config/app.php': '<?php return [];\n',
      link: { link: 'config/app.php' },
      'old/a.txt': 'goes away\n',
      'old/deep/b.txt': 'goes away too\n',
      'gone.txt': 'deleted later\n',
      'becomes-file/x.txt': 'a dir that turns into a file\n',
      'becomes-link.txt': 'a file that turns into a symlink\n',
      'touched.txt': 'only its mtime changes\n',
      'storage/logs/.keep': '',
      '.env': 'APP_ENV=from-release\n',
    },
    {
      config: { shared_dirs: ['storage'], shared_files: ['.env'], ...extra },
      shared: { '.env': 'APP_ENV=production\n' },
    },
  );
}

/** Every kind of change a new revision of an app can bring. */
/** The project's deploy.yml again, its host reached through a relay that counts (and may delay) what passes. */
async function viaRelay(name: string, file: string, deployPath: string, delayMs = 0) {
  const proxy = await startTcpProxy(server.port, '127.0.0.1', { delayMs });
  const knownHosts = path.join(work, name, 'known_hosts');
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${proxy.port} ${server.hostPublicKey}\n`);
  const config = writeConfig(path.dirname(file), {
    ...parse(fs.readFileSync(file, 'utf8')),
    hosts: { web: sshHost(server, deployPath, { port: proxy.port, known_hosts_file: knownHosts }) },
  });
  return { proxy, viaProxy: config };
}

function changeSource(source: string) {
  fs.writeFileSync(path.join(source, 'same-size.php'), '<?php return 2;\n');
  fs.writeFileSync(path.join(source, 'grows.php'), 'a longer content\n');
  fs.chmodSync(path.join(source, 'mode-only.sh'), 0o755);
  fs.rmSync(path.join(source, 'old'), { recursive: true });
  fs.rmSync(path.join(source, 'gone.txt'));
  fs.rmSync(path.join(source, 'becomes-file'), { recursive: true });
  fs.writeFileSync(path.join(source, 'becomes-file'), 'now a file\n');
  fs.rmSync(path.join(source, 'becomes-link.txt'));
  fs.symlinkSync('index.php', path.join(source, 'becomes-link.txt'));
  fs.rmSync(path.join(source, 'link'));
  fs.symlinkSync('index.php', path.join(source, 'link'));
  writeTree(source, { 'new/dir/file.txt': 'brand new\n', 'new/tool.sh': { content: 'x\n', mode: 0o700 } });
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync(path.join(source, 'touched.txt'), later, later);
}

const releasePath = (deployPath: string, name: string) => path.join(deployPath, 'releases', name);
const ino = (p: string) => fs.lstatSync(p).ino;

/** What upload put into a release: everything but the entries the shared stage replaced by links. */
function uploaded(release: string): Record<string, string> {
  const snap = snapshot(release);
  for (const p of Object.keys(snap)) {
    if (p === 'storage' || p.startsWith('storage/') || p === '.env') delete snap[p];
  }
  return snap;
}

function sourceSnapshot(source: string): Record<string, string> {
  const snap = snapshot(source);
  for (const p of Object.keys(snap)) {
    if (p === 'storage' || p.startsWith('storage/') || p === '.env') delete snap[p];
  }
  return snap;
}

function readManifest(deployPath: string, release: string) {
  const file = path.join(deployPath, '.deploy/upload-manifests', `${release}.json.gz`);
  return JSON.parse(gunzipSync(fs.readFileSync(file)).toString()) as {
    release: string;
    entries: { path: string; type: string; sha256?: string; mode: number }[];
  };
}

describe('incremental upload over a real sshd', () => {
  it('builds the release from the previous one: byte-identical to the source and to a full upload, previous release untouched', async () => {
    const { source, deployPath, file } = project('incremental');
    const first = await runCli(['-c', file, 'web'], { env });
    expect(first.code, first.output).toBe(0);
    expect(first.stdout).toContain('full upload: no previous release on this host');
    const [prev] = releasesOf(deployPath);
    const prevPath = releasePath(deployPath, prev!);
    const prevBefore = snapshot(prevPath);
    const sharedBefore = snapshot(path.join(deployPath, 'shared'));
    const unchangedIno = ino(path.join(prevPath, 'index.php'));
    const manifest = readManifest(deployPath, prev!);
    expect(manifest.release).toBe(prev);
    expect(manifest.entries.find((e) => e.path === 'index.php')?.sha256).toBe(
      snapshot(source)['index.php']!.split(' ')[2],
    );

    changeSource(source);
    const execsBefore = await server.execRequests();
    const second = await runCli(['-c', file, 'web'], { env });
    expect(second.code, second.output).toBe(0);
    expect(await server.execRequests()).toBeLessThanOrEqual(execsBefore + 6);
    expect(second.stdout).toMatch(
      new RegExp(`incremental upload from ${prev} \\(hard links\\): \\d+ new or changed`),
    );

    const next = releasesOf(deployPath).at(-1)!;
    const nextPath = releasePath(deployPath, next);
    expect(uploaded(nextPath)).toEqual(sourceSnapshot(source));
    for (const p of ['old', 'old/a.txt', 'gone.txt', 'becomes-file/x.txt']) {
      expect(fs.existsSync(path.join(nextPath, p)), p).toBe(false);
    }
    // Unchanged files are hard links to the previous release; changed ones are new inodes.
    expect(ino(path.join(nextPath, 'index.php'))).toBe(unchangedIno);
    expect(ino(path.join(nextPath, 'touched.txt'))).toBe(ino(path.join(prevPath, 'touched.txt')));
    expect(ino(path.join(nextPath, 'same-size.php'))).not.toBe(ino(path.join(prevPath, 'same-size.php')));
    expect(ino(path.join(nextPath, 'mode-only.sh'))).not.toBe(ino(path.join(prevPath, 'mode-only.sh')));
    expect(snapshot(prevPath)).toEqual(prevBefore);
    expect(snapshot(path.join(deployPath, 'shared'))).toEqual(sharedBefore);
    expect(fs.readlinkSync(path.join(nextPath, 'storage'))).toBe('../../shared/storage');

    const fresh = project('incremental-full', { upload: 'full' });
    fs.rmSync(fresh.source, { recursive: true });
    fs.cpSync(source, fresh.source, { recursive: true, verbatimSymlinks: true });
    const full = await runCli(['-c', fresh.file, 'web'], { env });
    expect(full.code, full.output).toBe(0);
    expect(full.stdout).toContain('full upload: `upload: full` is set');
    const fullRelease = releasePath(fresh.deployPath, releasesOf(fresh.deployPath)[0]!);
    expect(uploaded(nextPath)).toEqual(uploaded(fullRelease));
  });

  it('renames the newest pruned release into the next one and corrects it: exact source, nothing written through its links, previous release untouched (a spare with no list, as an older shipshape kept it)', async () => {
    const { source, deployPath, file } = project('recycle', { keep_releases: 2 });
    const spare = path.join(deployPath, '.deploy/spare');
    const deploy = async () => {
      const r = await runCli(['-c', file, 'web'], { env });
      expect(r.code, r.output).toBe(0);
      return r;
    };
    await deploy();
    const [first] = releasesOf(deployPath);
    changeSource(source);
    await deploy();
    fs.writeFileSync(path.join(source, 'index.php'), '<?php echo "v3";\n');
    await deploy();
    // The first release left releases/ (keep_releases 2) and is the spare.
    expect(releasesOf(deployPath)).not.toContain(first);
    expect(fs.readFileSync(path.join(spare, 'old/a.txt'), 'utf8')).toBe('goes away\n');

    // What a spare may hold by now: a link into shared/ where the source has a directory, a file
    // that looks like the release's but is another inode with other bytes, and leftovers. With its
    // list, the probe would not offer it (test/unit/persistence/spare-rescue.test.ts); without,
    // nothing tells, and the plan trusts nothing in it.
    fs.rmSync(path.join(deployPath, '.deploy/spare.list'));
    const victim = path.join(deployPath, 'shared', 'victim');
    writeTree(victim, { 'app.php': 'user data\n' });
    fs.rmSync(path.join(spare, 'config'), { recursive: true });
    fs.symlinkSync(victim, path.join(spare, 'config'));
    fs.rmSync(path.join(spare, 'touched.txt'));
    fs.writeFileSync(path.join(spare, 'touched.txt'), 'NOT the release file!!\n');
    writeTree(spare, { 'junk/deep/x.txt': 'left over\n' });
    fs.chmodSync(path.join(spare, 'bin'), 0o700);

    const [pruned, prev] = releasesOf(deployPath);
    const prunedBefore = snapshot(releasePath(deployPath, pruned!));
    const prevPath = releasePath(deployPath, prev!);
    const prevBefore = snapshot(prevPath);
    const sharedBefore = snapshot(path.join(deployPath, 'shared'));
    fs.writeFileSync(path.join(source, 'index.php'), '<?php echo "v4";\n');
    const execsBefore = await server.execRequests();
    const r = await deploy();
    expect(await server.execRequests()).toBeLessThanOrEqual(execsBefore + 6);
    expect(r.stdout).toContain(
      `incremental upload from ${prev} (hard links, in the directories of a pruned release`,
    );
    // The person's one change is counted against the live release; the spare's corrections
    // (its leftovers, the foreign link, the other inode) apart, in the parenthesis.
    const counts =
      /pruned release: (\d+) path\(s\) removed from it, \d+ linked again\): 1 new or changed, (\d+) removed or replaced/.exec(
        r.stdout,
      );
    expect(counts, r.stdout).not.toBeNull();
    expect(Number(counts![1])).toBeGreaterThan(Number(counts![2]));

    const next = releasesOf(deployPath).at(-1)!;
    const nextPath = releasePath(deployPath, next);
    expect(uploaded(nextPath)).toEqual(sourceSnapshot(source));
    expect(fs.existsSync(path.join(nextPath, 'junk'))).toBe(false);
    expect(snapshot(path.join(deployPath, 'shared'))).toEqual(sharedBefore);
    expect(snapshot(prevPath)).toEqual(prevBefore);
    expect(ino(path.join(nextPath, 'touched.txt'))).toBe(ino(path.join(prevPath, 'touched.txt')));
    expect(ino(path.join(nextPath, 'config/app.php'))).toBe(ino(path.join(prevPath, 'config/app.php')));
    expect(fs.lstatSync(path.join(nextPath, 'config')).isDirectory()).toBe(true);
    // The release this deploy pruned is the spare now; nothing else was left behind.
    expect(releasesOf(deployPath)).toEqual([prev, next]);
    expect(snapshot(spare)).toEqual(prunedBefore);

    const fresh = project('recycle-full', { upload: 'full' });
    fs.rmSync(fresh.source, { recursive: true });
    fs.cpSync(source, fresh.source, { recursive: true, verbatimSymlinks: true });
    expect((await runCli(['-c', fresh.file, 'web'], { env })).code).toBe(0);
    expect(uploaded(nextPath)).toEqual(
      uploaded(releasePath(fresh.deployPath, releasesOf(fresh.deployPath)[0]!)),
    );
  });

  it('a deploy with no change sends no file content, and still matches the source', async () => {
    const { source, deployPath, file } = project('no-change');
    // 300 KB that gzip cannot shrink, so any resend of it would show in the byte count.
    writeTree(source, { 'assets/blob.bin': randomBytes(300_000).toString('latin1') });
    const { proxy, viaProxy } = await viaRelay('no-change', file, deployPath);
    try {
      expect((await runCli(['-c', viaProxy, 'web'], { env })).code).toBe(0);
      const before = proxy.bytes().up;
      const r = await runCli(['-c', viaProxy, 'web'], { env });
      expect(r.code, r.output).toBe(0);
      const sent = proxy.bytes().up - before;
      // Neither the source's files nor the local copies of shared paths (.env, storage/) go again;
      // the links copied from the previous release are replaced (2).
      expect(r.stdout).toMatch(
        /incremental upload from \S+ \(hard links\): 0 new or changed, 2 removed or replaced/,
      );
      expect(sent).toBeLessThan(100_000);
      expect(uploaded(releasePath(deployPath, releasesOf(deployPath).at(-1)!))).toEqual(
        sourceSnapshot(source),
      );
      // The same measure sees a change of that file: the count is not blind.
      writeTree(source, { 'assets/blob.bin': randomBytes(300_000).toString('latin1') });
      const mark = proxy.bytes().up;
      expect((await runCli(['-c', viaProxy, 'web'], { env })).code).toBe(0);
      expect(proxy.bytes().up - mark).toBeGreaterThan(300_000);
    } finally {
      await proxy.close();
    }
  });

  it('the hash cache keeps what a deploy hashed (written after its upload) and what a dry run hashed', async () => {
    const { file } = project('hash-cache');
    // Files written in the last two seconds are not cached: a write within the clock's resolution
    // could leave their times as they were.
    await new Promise((r) => setTimeout(r, 2_100));
    const cached = (dir: string): string[] =>
      fs
        .readdirSync(path.join(dir, 'hashes'))
        .flatMap((f) =>
          fs
            .readFileSync(path.join(dir, 'hashes', f), 'utf8')
            .split('\n')
            .slice(1),
        )
        .filter(Boolean)
        .map((row) => row.split('\t').slice(5).join('\t'));
    const deployed = path.join(work, 'hash-cache', 'cache-deploy');
    const r = await runCli(['-c', file, 'web'], { env: { SHIPSHAPE_CACHE_DIR: deployed } });
    expect(r.code, r.output).toBe(0);
    expect(cached(deployed)).toEqual(expect.arrayContaining(['index.php', 'config/app.php', 'bin/run.sh']));
    // A dry run against that release hashes every file it might keep, for the deploy that follows.
    const planned = path.join(work, 'hash-cache', 'cache-dry-run');
    const d = await runCli(['-c', file, '--dry-run', 'web'], { env: { SHIPSHAPE_CACHE_DIR: planned } });
    expect(d.code, d.output).toBe(0);
    expect(cached(planned)).toEqual(expect.arrayContaining(['index.php', 'config/app.php', 'bin/run.sh']));
  });

  it('at a distance, every phase after the first finds its channel open: fewer waits, and not one exec request more', async () => {
    const { source, deployPath, file } = project('channels-ahead');
    // 10 ms each way: enough for every request and its answer to be a turn of their own.
    const { proxy, viaProxy } = await viaRelay('channels-ahead', file, deployPath, 10);
    try {
      for (let i = 0; i < 3; i++) {
        fs.appendFileSync(path.join(source, 'index.php'), `// deploy ${i}\n`);
        const turns = proxy.turns();
        const execs = await server.execRequests();
        const r = await runCli(['-c', viaProxy, 'web'], { env });
        expect(r.code, r.output).toBe(0);
        // Three scripts (one host, nothing local runs between: the link phase goes in the upload's,
        // the finish phase in the switch's), three exec requests: a channel is opened ahead only
        // for a phase that follows.
        expect((await server.execRequests()) - execs).toBe(3);
        // An exec costs three waits (open the channel, start the command, its result). Opened
        // ahead, the two phases after the first wait once each: 10 turns in all here.
        if (i === 2) expect(proxy.turns() - turns).toBeLessThanOrEqual(12);
      }
      // A dry run shows the scripts as the run sends them.
      const dry = await runCli(['-c', viaProxy, '--dry-run', '--json', 'web'], { env });
      expect(dry.code, dry.output).toBe(0);
      const plan = JSON.parse(dry.stdout) as {
        hosts: { phases: { phase: string; stages: { id: string }[] }[] }[];
      };
      expect(
        plan.hosts[0]!.phases.map((ph) => `${ph.phase}: ${ph.stages.map((st) => st.id).join(' ')}`),
      ).toEqual([
        'prepare: setup lock probe changes',
        'upload: release upload shared writable recipe-hooks',
        'switch: symlink recipe-hooks-after cleanup unlock',
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('the bytes a steady-state deploy receives and sends do not grow with the tree; a machine with no memory gets the listing whole', async () => {
    /** Bytes received and sent by the third deploy of a tree of `files` files, the first two setting up its reference. */
    const measured = async (name: string, files: number, cache: (i: number) => string) => {
      const { source, deployPath, file } = project(name);
      writeTree(
        source,
        Object.fromEntries(
          Array.from({ length: files }, (_, i) => [`vendor/p${i % 40}/F${i}.php`, `<?php // ${i}\n`]),
        ),
      );
      const { proxy, viaProxy } = await viaRelay(name, file, deployPath);
      try {
        let down = 0;
        let up = 0;
        for (let i = 0; i < 3; i++) {
          fs.appendFileSync(path.join(source, 'index.php'), `// deploy ${i}\n`);
          const before = proxy.bytes();
          const r = await runCli(['-c', viaProxy, 'web'], { env: { SHIPSHAPE_CACHE_DIR: cache(i) } });
          expect(r.code, r.output).toBe(0);
          down = proxy.bytes().down - before.down;
          up = proxy.bytes().up - before.up;
        }
        return { down, up };
      } finally {
        await proxy.close();
      }
    };
    const kept = (name: string) => () => path.join(work, name, 'cache');
    const small = await measured('bytes-small', 200, kept('bytes-small'));
    const large = await measured('bytes-large', 3000, kept('bytes-large'));
    // 2,800 more files; a listing costs far more than this per thousand files.
    expect(large.down - small.down).toBeLessThan(3_000);
    // Only the manifest's pieces that changed travel, and the list of their names (33 bytes per
    // 64 files); the whole manifest was 120 KB more.
    expect(large.up - small.up).toBeLessThan(10_000);
    // The same measure sees the listing and the whole manifest when this machine holds nothing (a fresh CI runner).
    const fresh = await measured('bytes-fresh', 3000, (i) => path.join(work, 'bytes-fresh', `cache-${i}`));
    expect(fresh.down - large.down).toBeGreaterThan(20_000);
    expect(fresh.up - large.up).toBeGreaterThan(50_000);
  });

  it('files the app wrote or rewrote in the previous release are not carried over', async () => {
    const { source, deployPath, file } = project('app-writes');
    expect((await runCli(['-c', file, 'web'], { env })).code).toBe(0);
    const prevPath = releasePath(deployPath, releasesOf(deployPath)[0]!);
    fs.writeFileSync(path.join(prevPath, 'cache.tmp'), 'written at runtime\n');
    // Rewritten in place, same size: only its mtime tells; an hour back so the second differs for sure.
    fs.writeFileSync(path.join(prevPath, 'config/app.php'), '<?php return [1];'.slice(0, 17) + '\n');
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(path.join(prevPath, 'config/app.php'), hourAgo, hourAgo);
    const r = await runCli(['-c', file, 'web'], { env });
    expect(r.code, r.output).toBe(0);
    const nextPath = releasePath(deployPath, releasesOf(deployPath).at(-1)!);
    expect(uploaded(nextPath)).toEqual(sourceSnapshot(source));
  });

  it('a missing manifest falls back to a full upload with a notice', async () => {
    const { source, deployPath, file } = project('no-manifest');
    expect((await runCli(['-c', file, 'web'], { env })).code).toBe(0);
    const [prev] = releasesOf(deployPath);
    fs.rmSync(path.join(deployPath, '.deploy/upload-manifests', `${prev}.json.gz`));
    const r = await runCli(['-c', file, 'web'], { env });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`full upload: release ${prev} has no upload manifest`);
    const nextPath = releasePath(deployPath, releasesOf(deployPath).at(-1)!);
    expect(uploaded(nextPath)).toEqual(sourceSnapshot(source));
    expect(ino(path.join(nextPath, 'index.php'))).not.toBe(
      ino(path.join(releasePath(deployPath, prev!), 'index.php')),
    );
  });

  it('a corrupt manifest falls back to a full upload with a notice, and the next deploy is incremental again', async () => {
    const { source, deployPath, file } = project('corrupt-manifest');
    expect((await runCli(['-c', file, 'web'], { env })).code).toBe(0);
    const [prev] = releasesOf(deployPath);
    fs.writeFileSync(path.join(deployPath, '.deploy/upload-manifests', `${prev}.json.gz`), 'not gzip at all');
    const r = await runCli(['-c', file, 'web'], { env });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`full upload: the upload manifest of ${prev} is unreadable`);
    expect(uploaded(releasePath(deployPath, releasesOf(deployPath).at(-1)!))).toEqual(sourceSnapshot(source));
    const again = await runCli(['-c', file, 'web'], { env });
    expect(again.stdout).toContain('incremental upload from');
  });

  it('upload: copy makes independent copies; gzip compression round-trips', async () => {
    const { source, deployPath, file } = project('copy', { upload: 'copy', compression: 'gzip' });
    expect((await runCli(['-c', file, 'web'], { env })).code).toBe(0);
    changeSource(source);
    const r = await runCli(['-c', file, 'web'], { env });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain('(copied)');
    const [prev, next] = releasesOf(deployPath).map((n) => releasePath(deployPath, n));
    expect(uploaded(next!)).toEqual(sourceSnapshot(source));
    expect(ino(path.join(next!, 'index.php'))).not.toBe(ino(path.join(prev!, 'index.php')));
  });
});
