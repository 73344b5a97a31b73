import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitIn, isolatedGitEnv } from '../support/git.js';
import { releasesOf, runCli, sshHost, writeConfig, writeTree } from '../support/project.js';
import type { SshdServer } from '../support/sshd.js';
import { useSshd } from '../support/sshd-fixture.js';

let server: SshdServer;
let work: string;

useSshd('shipshape-new-server-', (fx) => ({ server, work } = fx));

const DEV_ENV = 'APP_ENV=local\nAPP_DEBUG=true\n';
const PRODUCTION_ENV = 'APP_ENV=production\nAPP_DEBUG=false\nAPP_KEY=base64:cHJvZHVjdGlvbi1rZXktMTIzNDU2\n';
const DEV_LOG = '[2026-01-01 10:00:00] local.DEBUG: development log line';

/** Every file under `dir` whose bytes contain `text`, following no links. */
function filesContaining(dir: string, text: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && fs.readFileSync(p).includes(text)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

// Issue 17's acceptance, as a new user meets it: a Laravel app in git, a fresh server on a port
// that is not 22, the hint followed as printed, `deploy setup`, then the deploy.
describe('a new server, from a git repository', () => {
  it('the missing .env hint works as printed; setup puts production’s .env; the deploy sends nothing git ignores', async () => {
    const top = path.join(work, 'shop');
    writeTree(top, {
      '.gitignore': '/.env\n/.env.production\nsecret.local\n/vendor\n',
      artisan: { content: '#!/usr/bin/env php\n<?php\n', mode: 0o755 },
      'composer.json': '{"require":{"laravel/framework":"^11.0"}}\n',
      'public/index.php': '<?php // front controller\n',
      'storage/logs/.gitignore': '*\n!.gitignore\n',
      'storage/framework/sessions/.gitignore': '*\n!.gitignore\n',
    });
    const env = isolatedGitEnv(top);
    const g = gitIn(top);
    g.init();
    const deployPath = path.join(work, 'shop.server');
    writeConfig(top, {
      application: 'shop',
      shared_files: ['config/oauth-private.key'],
      hosts: { web: sshHost(server, deployPath, { stage: 'production' }) },
    });
    g.commitAll('shop');
    // What the developer's tree holds besides the commit.
    writeTree(top, {
      '.env': DEV_ENV,
      'secret.local': 'password\n',
      'storage/logs/laravel.log': `${DEV_LOG}\n`,
      'storage/framework/sessions/abc123': 'a:1:{s:5:"_flash";}\n',
      // Neither ignored nor committed: a file under a shared dir is still never seeded from here.
      'storage/app/dev-notes.txt': `${DEV_LOG} (untracked)\n`,
      '.env.production': PRODUCTION_ENV,
      'config/oauth-private.key.production': 'oauth private key\n',
    });
    const cli = (...args: string[]) => runCli(args, { cwd: top, env });

    // 1. The first deploy: nothing in shared/, the local .env is git-ignored, so it is not taken.
    const first = await cli('production');
    expect(first.code, first.output).toBe(1);
    expect(first.stderr).toContain('ESHAREDMISSING');
    expect(first.stderr).toContain('.env, config/oauth-private.key');
    expect(first.stderr).toContain(
      '  deploy setup web --put .env.production:.env --put config/oauth-private.key.production:config/oauth-private.key',
    );
    expect(fs.existsSync(path.join(deployPath, 'shared/.env'))).toBe(false);

    // 2. The hint's commands by hand work as printed: on the test server's port, with its user,
    //    making the nested directory first. (Undone afterwards: setup is what this user runs.)
    const byHand = first.stderr.split('\n').filter((l) => /^ {2}chmod 600 /.test(l));
    expect(byHand).toHaveLength(2);
    expect(byHand[0]).toContain(`scp -P ${server.port} `);
    expect(byHand[1]).toMatch(
      new RegExp(
        `^ {2}chmod 600 \\S+ && ssh -p ${server.port} .*'mkdir -p .*/shared/config' && scp -P ${server.port} `,
      ),
    );
    for (const line of byHand) execFileSync('/bin/sh', ['-c', line], { cwd: top, stdio: 'pipe' });
    expect(fs.readFileSync(path.join(deployPath, 'shared/.env'), 'utf8')).toBe(PRODUCTION_ENV);
    expect(fs.readFileSync(path.join(deployPath, 'shared/config/oauth-private.key'), 'utf8')).toBe(
      'oauth private key\n',
    );
    // With the mode setup gives them (below), not the server umask's world-readable 0644, and the
    // local copies closed too.
    expect((fs.statSync(path.join(top, '.env.production')).mode & 0o777).toString(8)).toBe('600');
    for (const f of ['shared/.env', 'shared/config/oauth-private.key']) {
      expect((fs.statSync(path.join(deployPath, f)).mode & 0o777).toString(8), f).toBe('640');
    }
    fs.rmSync(path.join(deployPath, 'shared'), { recursive: true });

    // 3. deploy setup puts production's .env (0640: the app reads it through the group).
    const setup = await cli('setup', 'production', '--put', '.env.production:.env');
    expect(setup.code, setup.output).toBe(0);
    expect(setup.stdout).toContain('missing  shared/config/oauth-private.key (required)');
    const key = await cli(
      'setup',
      'production',
      '--put',
      'config/oauth-private.key.production:config/oauth-private.key',
    );
    expect(key.code, key.output).toBe(0);
    expect(key.stdout).toContain('ready for the first deploy');
    const sharedEnv = path.join(deployPath, 'shared/.env');
    expect(fs.readFileSync(sharedEnv, 'utf8')).toBe(PRODUCTION_ENV);
    expect((fs.statSync(sharedEnv).mode & 0o777).toString(8)).toBe('640');
    const envBefore = fs.statSync(sharedEnv);

    // 4. The deploy: git-ignored files stay home, production's .env is untouched.
    const deployed = await cli('production');
    expect(deployed.code, deployed.output).toBe(0);
    const [release] = releasesOf(deployPath);
    const releaseDir = path.join(deployPath, 'releases', release!);
    expect(fs.existsSync(path.join(releaseDir, 'secret.local'))).toBe(false);
    expect(fs.readlinkSync(path.join(releaseDir, '.env'))).toBe('../../shared/.env');
    expect(fs.readFileSync(path.join(deployPath, 'current/.env'), 'utf8')).toBe(PRODUCTION_ENV);
    const envAfter = fs.statSync(sharedEnv);
    expect([envAfter.ino, envAfter.mtimeMs, envAfter.mode]).toEqual([
      envBefore.ino,
      envBefore.mtimeMs,
      envBefore.mode,
    ]);
    expect(filesContaining(path.join(deployPath, 'shared'), 'development log line')).toEqual([]);
    expect(filesContaining(path.join(deployPath, 'releases'), 'development log line')).toEqual([]);
    expect(filesContaining(path.join(deployPath, 'shared'), 'APP_DEBUG=true')).toEqual([]);
    expect(fs.existsSync(path.join(deployPath, 'shared/storage/framework/sessions/abc123'))).toBe(false);
    expect(fs.existsSync(path.join(deployPath, 'shared/storage/app/dev-notes.txt'))).toBe(false);
    // setup made shared/storage before the first deploy: the tracked skeleton went into it all the same.
    expect(fs.readFileSync(path.join(deployPath, 'shared/storage/logs/.gitignore'), 'utf8')).toBe(
      '*\n!.gitignore\n',
    );
    expect(deployed.stdout).toContain('shared/storage: seeded');

    // 5. A redeploy with no change sends no file: the tracked skeleton seeded shared/ once, and
    //    nothing of a shared path goes again.
    const again = await cli('production');
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/incremental upload from \S+ \(hard links\): 0 new or changed/);
  });
});
