import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { quote } from '../../src/remote/sh.js';
import { gitIn, isolatedGitEnv } from '../support/git.js';
import { cliArgv, runCli, tmpDir, writeTree } from '../support/project.js';

const work = tmpDir('shipshape-init-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The CLI on a pseudo-terminal (util-linux `script`), `typed` as what the person types. */
function onTerminal(args: string[], cwd: string, typed: string, env: NodeJS.ProcessEnv) {
  const command = cliArgv(args).map(quote).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], {
    cwd,
    input: typed,
    encoding: 'utf8',
    env: { ...process.env, ...env, CI: '', FORCE_COLOR: '0' },
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('deploy init', () => {
  it('writes a config that knows what git ignores, defaults to staging, and asks before overwriting', async () => {
    const dir = path.join(work, 'shop');
    writeTree(dir, {
      artisan: '#!/usr/bin/env php\n',
      'composer.json': '{"require":{"laravel/framework":"^11.0"}}\n',
      '.gitignore': '/vendor\n/public/build\n.env\n',
      'vendor/autoload.php': '<?php\n',
      'public/build/manifest.json': '{}\n',
    });
    const env = isolatedGitEnv(dir);
    gitIn(dir).init();
    const file = path.join(dir, 'deploy.yml');

    const r = await runCli(['init'], { cwd: dir, env });
    expect(r.code, r.output).toBe(0);
    const written = fs.readFileSync(file, 'utf8');
    expect(written).toContain('# Ignored here now: public/build/, vendor/.');
    expect(written).toContain('#   include: [public/build]');
    expect(written).toContain('default_selector: staging');
    expect(r.stdout).toContain('deploy setup staging --put .env.staging:.env');
    // As written it is a valid deploy.yml whose bare `deploy` would go to staging.
    const hosts = await runCli(['hosts', 'staging'], { cwd: dir, env });
    expect(hosts.code, hosts.output).toBe(0);
    expect(hosts.stdout).toMatch(/staging1 +staging +deploy@staging\.example\.com:22/);

    // No terminal: refuse, change nothing.
    fs.writeFileSync(file, 'application: mine\n');
    const again = await runCli(['init'], { cwd: dir, env });
    expect(again.code, again.output).toBe(2);
    expect(again.stderr).toContain('deploy init --force');
    expect(fs.readFileSync(file, 'utf8')).toBe('application: mine\n');

    // On a terminal: "n" keeps it, "y" overwrites it.
    const no = onTerminal(['init'], dir, 'n\n', env);
    expect(no.code, no.output).toBe(0);
    expect(no.output).toContain('deploy.yml exists. Overwrite it? [y/N]');
    expect(fs.readFileSync(file, 'utf8')).toBe('application: mine\n');
    const yes = onTerminal(['init'], dir, 'y\n', env);
    expect(yes.code, yes.output).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toContain('default_selector: staging');

    fs.writeFileSync(file, 'application: mine\n');
    expect((await runCli(['init', '--force'], { cwd: dir, env })).code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toContain('default_selector: staging');
  });

  it('with -c, its hints name that file, quoted, and work as printed', async () => {
    const dir = path.join(work, 'ops');
    writeTree(dir, { 'index.html': '<p>hi</p>\n', 'ops dir/.keep': '' });
    const env = isolatedGitEnv(dir);
    gitIn(dir).init();
    const typed = path.join('ops dir', 'deploy.yml');

    const r = await runCli(['-c', typed, 'init'], { cwd: dir, env });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain("`deploy -c 'ops dir/deploy.yml' setup staging`");
    expect(r.stdout).toContain("`deploy -c 'ops dir/deploy.yml' staging`");

    fs.writeFileSync(path.join(dir, typed), 'application: mine\n');
    const again = await runCli(['-c', typed, 'init'], { cwd: dir, env });
    expect(again.code, again.output).toBe(2);
    const hint = /run `deploy (.*)` to overwrite it/.exec(again.stderr)?.[1];
    expect(hint).toBe("-c 'ops dir/deploy.yml' init --force");
    // The hint as the shell splits it overwrites that file, and writes no ./deploy.yml.
    const args = spawnSync('/bin/sh', ['-c', 'eval "set -- $1"; printf \'%s\\n\' "$@"', 'sh', hint!], {
      encoding: 'utf8',
    }).stdout.split('\n');
    const forced = await runCli(args.slice(0, -1), { cwd: dir, env });
    expect(forced.code, forced.output).toBe(0);
    expect(fs.readFileSync(path.join(dir, typed), 'utf8')).toContain('default_selector: staging');
    expect(fs.existsSync(path.join(dir, 'deploy.yml'))).toBe(false);
  });
});
