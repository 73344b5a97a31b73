import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { logOf, releasesOf, runCli, sshProject, writeConfig, writeTree } from '../support/project.js';
import type { SshdServer } from '../support/sshd.js';
import { useSshd } from '../support/sshd-fixture.js';

let server: SshdServer;
let work: string;
let env: NodeJS.ProcessEnv;

useSshd('shipshape-unchanged-', (fx) => {
  ({ server, work } = fx);
  env = { SHIPSHAPE_CACHE_DIR: path.join(work, 'cache') };
});

/** Every hook run appends a line to shared/hook-runs: a skipped deploy must add none. */
const HOOK = 'echo "$SHIPSHAPE_RELEASE" >> "$SHIPSHAPE_DEPLOY_PATH/shared/hook-runs"';

function project(name: string) {
  return sshProject(
    server,
    work,
    name,
    {
      'index.php': '<?php echo "v1";\n',
      'config/app.php': '<?php return [];\n',
      'bin/run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o750 },
      link: { link: 'config/app.php' },
      'storage/logs/.keep': '',
    },
    {
      config: {
        shared_dirs: ['storage'],
        shared_files: ['.env'],
        hooks: { after: { symlink: [HOOK] } },
      },
      shared: { '.env': 'APP_ENV=production\n' },
    },
  );
}

const hookRuns = (deployPath: string): string[] =>
  fs.readFileSync(path.join(deployPath, 'shared/hook-runs'), 'utf8').split('\n').filter(Boolean);
const current = (deployPath: string): string => fs.readlinkSync(path.join(deployPath, 'current'));

/** A project with skip_unchanged: true, deployed once; deploy() says whether the next run made a release. */
async function skipping(name: string) {
  const p = project(name);
  const yml = parse(fs.readFileSync(p.file, 'utf8')) as Record<string, unknown>;
  const configure = (extra: Record<string, unknown> = {}) =>
    writeConfig(path.dirname(p.file), { ...yml, skip_unchanged: true, ...extra });
  configure();
  expect((await runCli(['-c', p.file, 'web'], { env })).code).toBe(0);
  // Releases are pruned (keep_releases): which one is live says whether one was made.
  const deploy = async (expected: 'unchanged' | 'made', why?: RegExp) => {
    const before = current(p.deployPath);
    const r = await runCli(['-c', p.file, 'web'], { env });
    expect(r.code, r.output).toBe(0);
    if (expected === 'made') expect(current(p.deployPath), r.output).not.toBe(before);
    else expect(current(p.deployPath), r.output).toBe(before);
    if (why) expect(r.stdout).toMatch(why);
    return r;
  };
  return { ...p, configure, deploy };
}

/** A project deployed once with skip_unchanged; run() says whether the next run compared, trusted its record or made a release. */
async function recording(name: string) {
  const p = await skipping(name);
  const run = async (expected: 'compared' | 'recorded' | 'made') => {
    const before = current(p.deployPath);
    const r = await runCli(['-c', p.file, 'web'], { env });
    expect(r.code, r.output).toBe(0);
    expect(current(p.deployPath) !== before, r.output).toBe(expected === 'made');
    if (expected === 'compared')
      expect(r.stdout).toMatch(/already holds this source.*\(compared with its upload manifest\)/);
    if (expected === 'recorded')
      expect(r.stdout).toMatch(/already holds this source.*\(as recorded when last compared\)/);
    return r;
  };
  return { ...p, run };
}

// The source's key is taken only once its files settled: 2 s covers a file system that keeps
// whole seconds (0.1 s does for sub-second times).
const settle = () => new Promise((r) => setTimeout(r, 2_100));

describe('skip_unchanged', () => {
  it('makes no release, runs no hook and leaves no lock when the host already runs the source', async () => {
    const { deployPath, file } = project('same');
    expect((await runCli(['-c', file, 'web'], { env })).code).toBe(0);
    const live = current(deployPath);
    const log = logOf(deployPath).length;
    // Written by the app into a shared path: not a change of the release.
    writeTree(path.join(deployPath, 'shared/storage'), { 'logs/app.log': 'a line\n' });

    const r = await runCli(['-c', file, 'web', '--skip-unchanged', '--json'], { env });
    expect(r.code, r.output).toBe(0);
    const out = JSON.parse(r.stdout) as { release: string; unchanged?: boolean; hosts: { status: string }[] };
    expect(out.unchanged).toBe(true);
    expect(out.release).toBe(path.basename(live));
    expect(out.hosts.map((h) => h.status)).toEqual(['unchanged']);
    expect(releasesOf(deployPath)).toEqual([path.basename(live)]);
    expect(current(deployPath)).toBe(live);
    expect(logOf(deployPath)).toHaveLength(log);
    expect(hookRuns(deployPath)).toHaveLength(1);
    expect(fs.existsSync(path.join(deployPath, '.deploy/lock'))).toBe(false);

    // Without the flag (and skip_unchanged off, the default) the same source makes a release.
    const again = await runCli(['-c', file, 'web'], { env });
    expect(again.code, again.output).toBe(0);
    expect(releasesOf(deployPath)).toHaveLength(2);
    expect(hookRuns(deployPath)).toHaveLength(2);
  });

  it('makes a release when a file, a mode, a removal or an addition differs in the source', async () => {
    const { source, deploy } = await skipping('differs');
    await deploy('unchanged', /web: unchanged: release \S+ already holds this source/);

    writeTree(source, { 'index.php': '<?php echo "v2";\n' });
    await deploy('made', /skip_unchanged: making a release: the source differs from release/);
    await deploy('unchanged');

    fs.chmodSync(path.join(source, 'bin/run.sh'), 0o755);
    await deploy('made');
    fs.rmSync(path.join(source, 'link'));
    await deploy('made');
    writeTree(source, { 'config/new.php': '<?php\n' });
    await deploy('made');
    await deploy('unchanged');
  });

  it('makes a release when the live release was changed on the server', async () => {
    const { deployPath, deploy } = await skipping('live');
    // A file added in the live release on the server: a release without it is made, the file rescued.
    fs.writeFileSync(path.join(deployPath, current(deployPath), 'hotfix.php'), '<?php // by hand\n');
    await deploy('made', /was changed on the server since it went live/);
    expect(fs.existsSync(path.join(deployPath, current(deployPath), 'hotfix.php'))).toBe(false);
    expect(fs.readdirSync(path.join(deployPath, 'shared/.rescued'))).not.toHaveLength(0);
    await deploy('unchanged');

    // A file edited on the server is put back as the source has it.
    fs.writeFileSync(path.join(deployPath, current(deployPath), 'index.php'), 'edited on the server\n');
    await deploy('made');
    expect(fs.readFileSync(path.join(deployPath, current(deployPath), 'index.php'), 'utf8')).toBe(
      '<?php echo "v1";\n',
    );
  });

  it('makes a release after another deploy.yml, an unfinished deploy, --no-skip-unchanged or a rollback', async () => {
    const { file, deployPath, configure, deploy } = await skipping('history');
    configure({ hooks: { after: { symlink: [HOOK, 'true'] } } });
    await deploy('made', /made with another deploy.yml or shipshape version/);
    await deploy('unchanged');
    // A deploy whose finish failed (a warning: its release stays live) is not trusted as finished.
    configure({ hooks: { after: { symlink: [HOOK, 'true'] }, before: { cleanup: ['exit 3'] } } });
    await deploy('made', /made with another deploy.yml/);
    await deploy('made', /the deploy of release \S+ is not recorded as finished/);
    configure({ hooks: { after: { symlink: [HOOK, 'true'] } } });
    await deploy('made');
    await deploy('unchanged');
    const runs = hookRuns(deployPath).length;
    const forced = await runCli(['-c', file, 'web', '--no-skip-unchanged'], { env });
    expect(forced.code, forced.output).toBe(0);
    expect(hookRuns(deployPath)).toHaveLength(runs + 1);

    // Rolled back to a release of the same source: its deploy is not the last that finished.
    const back = await runCli(['-c', file, 'rollback', 'web'], { env });
    expect(back.code, back.output).toBe(0);
    await deploy('made', /the deploy of release \S+ is not recorded as finished/);
    await deploy('unchanged');
  });

  it('a run that compared records it; the next trusts the record only while the source is as recorded', async () => {
    const { source, deployPath, run } = await recording('record');
    const finished = () => fs.readFileSync(path.join(deployPath, '.deploy/finished'), 'utf8').split('\t');
    expect(finished()).toHaveLength(2);
    await settle();
    await run('compared');
    expect(finished()).toHaveLength(4);
    await run('recorded');
    await run('recorded');
    expect(hookRuns(deployPath)).toHaveLength(1);

    // Written again with the same bytes: the key differs, the comparison finds it alike and records anew.
    fs.writeFileSync(path.join(source, 'index.php'), fs.readFileSync(path.join(source, 'index.php')));
    await settle();
    await run('compared');
    await run('recorded');
    // Other bytes, after a recorded run: the record never stands for a source that changed.
    writeTree(source, { 'config/app.php': '<?php return ["debug" => false];\n' });
    await settle();
    await run('made');
    expect(finished(), 'a deploy writes the record anew, without what a run confirmed').toHaveLength(2);
    const app = fs.readFileSync(path.join(deployPath, current(deployPath), 'config/app.php'), 'utf8');
    expect(app).toContain('debug');
    await run('compared');
    await run('recorded');
  });

  it('the record is not trusted once a mode or a symlink of the live release was changed on the server', async () => {
    const { deployPath, run } = await recording('record-live');
    await settle();
    await run('compared');
    await run('recorded');
    // A mode changed on the server: the changes stage does not look at modes, the listing does.
    fs.chmodSync(path.join(deployPath, current(deployPath), 'bin/run.sh'), 0o777);
    await run('made');
    expect(fs.statSync(path.join(deployPath, current(deployPath), 'bin/run.sh')).mode & 0o777).toBe(0o750);
    await run('compared');
    await run('recorded');

    // A symlink changed on the server.
    const link = path.join(deployPath, current(deployPath), 'link');
    fs.rmSync(link);
    fs.symlinkSync('index.php', link);
    await run('made');
    expect(fs.readlinkSync(path.join(deployPath, current(deployPath), 'link'))).toBe('config/app.php');
    await run('compared');
  });

  it('the record is not trusted once a shared dir is gone or the release’s link into shared/ is a dir', async () => {
    const { source, deployPath, run } = await recording('record-shared');
    await settle();
    await run('compared');
    await run('recorded');
    // A shared directory gone from shared/: a deploy makes it again, so no skip leaves it missing.
    fs.rmSync(path.join(deployPath, 'shared/storage'), { recursive: true });
    expect((await run('made')).stdout).toMatch(
      /making a release: \S+\/shared\/storage is missing on the server/,
    );
    expect(fs.statSync(path.join(deployPath, 'shared/storage')).isDirectory()).toBe(true);
    await run('compared');
    await run('recorded');

    // The live release's link into shared/ replaced by a directory by hand: the app would write
    // into the release, so the comparison of the source alone must not call the host unchanged.
    writeTree(source, { 'index.php': '<?php echo "v3";\n' });
    await settle();
    await run('made');
    const storage = path.join(deployPath, current(deployPath), 'storage');
    fs.rmSync(storage);
    fs.mkdirSync(storage);
    expect((await run('made')).stdout).toMatch(
      /making a release: current\/storage is no longer a link into shared\//,
    );
    expect(fs.lstatSync(path.join(deployPath, current(deployPath), 'storage')).isSymbolicLink()).toBe(true);
    await run('compared');
  });

  it('a dry run says whether a release would be made', async () => {
    const { source, file } = project('dry');
    expect((await runCli(['-c', file, 'web'], { env })).code).toBe(0);
    const same = await runCli(['-c', file, 'web', '--dry-run', '--skip-unchanged'], { env });
    expect(same.code, same.output).toBe(0);
    expect(same.stdout).toMatch(
      /skip_unchanged: release \S+ already holds this source.*no release would be made/,
    );
    writeTree(source, { 'index.php': '<?php echo "v3";\n' });
    const differs = await runCli(['-c', file, 'web', '--dry-run', '--skip-unchanged'], { env });
    expect(differs.stdout).toMatch(/skip_unchanged: a release would be made: the source differs/);
  });
});
