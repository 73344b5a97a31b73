import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitIn, isolatedGitEnv } from '../support/git.js';
import { runCli, snapshot, sshHost, tmpDir, writeConfig, writeTree } from '../support/project.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

let server: SshdServer;
let work: string;

beforeAll(async () => {
  work = tmpDir('shipshape-artifacts-');
  server = await startSshd();
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/**
 * An app in git whose local build step writes git-ignored output that `include` uploads, with a
 * staging and a production host, and the default store (.shipshape/artifacts beside deploy.yml).
 */
function project(name: string) {
  const top = path.join(work, name);
  writeTree(top, {
    '.gitignore': '/.shipshape/\n/app/public/build/\n',
    'app/index.php': '<?php echo "v1";\n',
    'app/bin/console': { content: '#!/bin/sh\necho console\n', mode: 0o755 },
    'app/public/index.php': '<?php require "../index.php";\n',
    'app/public/favicon': { link: 'index.php' },
  });
  const g = gitIn(top);
  g.init();
  const staging = path.join(work, `${name}.staging`);
  const production = path.join(work, `${name}.production`);
  const file = writeConfig(top, {
    application: name,
    source: 'app',
    recipe: 'static',
    include: ['public/build'],
    shared_dirs: ['storage'],
    hooks: {
      before: {
        upload: [
          {
            run: 'mkdir -p public/build && printf "built from %s\\n" "$(cat index.php)" > public/build/app.js',
            local: true,
          },
        ],
      },
    },
    hosts: {
      stage1: sshHost(server, staging, { stage: 'staging' }),
      prod1: sshHost(server, production, { stage: 'production' }),
    },
  });
  return { top, app: path.join(top, 'app'), g, file, env: isolatedGitEnv(top), staging, production };
}

const build = async (p: ReturnType<typeof project>, ...args: string[]) => {
  const r = await runCli(['-c', p.file, 'build', ...args], { env: p.env });
  expect(r.code, r.output).toBe(0);
  expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
  return r.stdout.trim();
};

/** The release as the app sees it, without what the shared stage links in. */
const releaseOf = (deployPath: string) => {
  const s = snapshot(path.join(deployPath, 'current'));
  delete s['storage'];
  return s;
};

describe('release artifacts in the default store, over a real sshd', () => {
  it('the same commit builds to the same id; staging and production deployed by id hold the same bytes, and say so', async () => {
    const p = project('same');
    const sha = p.g.commitAll('v1');

    const fromTree = await build(p);
    const again = await runCli(['-c', p.file, 'build'], { env: p.env });
    expect(again.stdout.trim()).toBe(fromTree);
    expect(again.stderr).toContain('already in');
    // A clean checkout of the commit, built in a temporary worktree, gives the same id.
    fs.rmSync(path.join(p.app, 'public/build'), { recursive: true });
    const fromRevision = await build(p, '--revision', 'HEAD');
    expect(fromRevision).toBe(fromTree);
    expect(fs.existsSync(path.join(p.app, 'public/build')), 'the build ran in the worktree').toBe(false);
    expect(fs.readFileSync(path.join(p.top, '.shipshape/artifacts/artifacts', fromTree), 'utf8')).toContain(
      `"revision":"${sha}"`,
    );

    // The source changes after the build: deploying the id takes nothing from it, and runs no build.
    fs.writeFileSync(path.join(p.app, 'index.php'), '<?php echo "not this";\n');
    const staging = await runCli(['-c', p.file, '--artifact', fromTree, 'staging'], { env: p.env });
    expect(staging.code, staging.output).toBe(0);
    expect(staging.output).toContain('the local build steps do not run');
    const dry = await runCli(['-c', p.file, '--dry-run', '--artifact', fromTree, 'production'], {
      env: p.env,
    });
    expect(dry.code, dry.output).toBe(0);
    expect(dry.stdout).toContain(
      `source: artifact ${fromTree} in ${path.join(p.top, '.shipshape/artifacts')} at ${sha}`,
    );
    const production = await runCli(
      ['-c', p.file, '--json', '--artifact', fromTree.slice(0, 12), 'production'],
      {
        env: p.env,
      },
    );
    expect(production.code, production.output).toBe(0);
    expect(JSON.parse(production.stdout)).toMatchObject({ artifact: fromTree, revision: sha });

    const s = releaseOf(p.staging);
    expect(releaseOf(p.production)).toEqual(s);
    expect(fs.readFileSync(path.join(p.production, 'current/public/build/app.js'), 'utf8')).toBe(
      'built from <?php echo "v1";\n',
    );
    expect(fs.readFileSync(path.join(p.production, 'current/REVISION'), 'utf8')).toBe(`${sha}\n`);
    expect(s['bin/console']).toMatch(/^file 755 /);
    expect(s['public/favicon']).toBe('link index.php');

    for (const stage of ['staging', 'production']) {
      const r = await runCli(['-c', p.file, '--json', 'releases', stage], { env: p.env });
      expect(r.code, r.output).toBe(0);
      const [host] = (
        JSON.parse(r.stdout) as { hosts: { releases: { artifact?: string; revision?: string }[] }[] }
      ).hosts;
      expect(host!.releases.at(-1)).toMatchObject({ artifact: fromTree, revision: sha });
      const table = await runCli(['-c', p.file, 'releases', stage], { env: p.env });
      expect(table.stdout).toMatch(
        new RegExp(`REVISION\\s+ARTIFACT\\n.*${sha}\\s+${fromTree.slice(0, 12)}\\n`),
      );
    }
  });

  it('a wrong id, or an id and a revision at once, stop before any host is contacted (exit 2)', async () => {
    const p = project('wrong');
    p.g.commitAll('v1');
    const before = await server.connections();
    const missing = await runCli(['-c', p.file, '--artifact', 'deadbeef00', 'staging'], { env: p.env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /EARTIFACT: cannot deploy artifact `deadbeef00`: .* holds no such artifact/,
    );
    const short = await runCli(['-c', p.file, '--artifact', 'abc', 'staging'], { env: p.env });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('a unique prefix of at least 8');
    const both = await runCli(['-c', p.file, '--artifact', 'a'.repeat(64), '--revision', 'HEAD', 'staging'], {
      env: p.env,
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--artifact and --revision');
    // A manifest altered in the store no longer hashes to its id.
    const id = await build(p);
    const manifest = path.join(p.top, '.shipshape/artifacts/artifacts', id);
    fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('"mode":493', '"mode":511'));
    const altered = await runCli(['-c', p.file, '--artifact', id, 'staging'], { env: p.env });
    expect(altered.code).toBe(2);
    expect(altered.stderr).toContain('does not hash to its id');
    expect(await server.connections()).toBe(before);
  });

  it('artifacts prune --keep keeps the newest and every artifact a release on any host uses', async () => {
    const p = project('prune');
    p.g.commitAll('v1');
    const a = await build(p);
    const deployed = await runCli(['-c', p.file, '--artifact', a, 'all'], { env: p.env });
    expect(deployed.code, deployed.output).toBe(0);
    const objects = path.join(p.top, '.shipshape/artifacts/objects');
    const count = () => fs.readdirSync(objects).flatMap((d) => fs.readdirSync(path.join(objects, d))).length;

    fs.writeFileSync(path.join(p.app, 'index.php'), '<?php echo "v2";\n');
    p.g.commitAll('v2');
    const b = await build(p);
    fs.writeFileSync(path.join(p.app, 'index.php'), '<?php echo "v3";\n');
    p.g.commitAll('v3');
    const c = await build(p);
    const objectsBefore = count();

    const pruned = await runCli(['-c', p.file, '--json', 'artifacts', 'prune', '--keep', '1'], {
      env: p.env,
    });
    expect(pruned.code, pruned.output).toBe(0);
    const r = JSON.parse(pruned.stdout) as {
      kept: string[];
      removed: string[];
      inUse: { id: string; hosts: string[] }[];
    };
    expect(r.kept.sort()).toEqual([a, c].sort());
    expect(r.removed).toEqual([b]);
    expect(r.inUse).toEqual([{ id: a, hosts: ['stage1', 'prod1'] }]);
    // v2's index.php and app.js were b's alone; everything else is shared with a or c.
    expect(count()).toBe(objectsBefore - 2);
    const list = await runCli(['-c', p.file, 'artifacts', 'list'], { env: p.env });
    expect(list.stdout).toContain(a);
    expect(list.stdout).toContain(c);
    expect(list.stdout).not.toContain(b);
    // What is kept still deploys.
    const redeploy = await runCli(['-c', p.file, '--artifact', a, 'staging'], { env: p.env });
    expect(redeploy.code, redeploy.output).toBe(0);
  });
});
