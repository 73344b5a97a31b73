import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { releasesOf, runCli, runCliOnTerminal, sshHost, writeConfig, writeTree } from '../support/project.js';
import { useSshd } from '../support/sshd-fixture.js';

/** The rough edges a new user met, each fixed and kept fixed. */
const suite = useSshd('shipshape-cli-polish-');

const NO_CI = { GITHUB_ACTIONS: '', GITLAB_CI: '' };
// eslint-disable-next-line no-control-regex
const plainText = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

function project(name: string, extra: Record<string, unknown> = {}, files: Record<string, string> = {}) {
  const dir = path.join(suite.work, name);
  writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n', ...files });
  const deployPath = path.join(dir, 'srv');
  const file = writeConfig(dir, {
    application: name,
    source: 'app',
    hosts: {
      web1: sshHost(suite.server, deployPath, { stage: 'production', labels: { role: 'web' } }),
      db1: sshHost(suite.server, path.join(dir, 'srv-db'), { stage: 'staging' }),
    },
    ...extra,
  });
  return { dir, file, deployPath };
}

describe('help and hosts', () => {
  it('`deploy help` and `deploy help lock` print help and exit 0; a subcommand’s help lists the global options', async () => {
    const p = project('help');
    const help = await runCli(['-c', p.file, 'help']);
    expect(help.code, help.output).toBe(0);
    expect(help.stdout).toMatch(/Usage: deploy \[options\] \[command\] \[selector\.\.\.\]/);
    expect(help.stdout).toMatch(/^ {2}task <name> \[selector\.\.\.\]/m);
    const lock = await runCli(['-c', p.file, 'help', 'lock']);
    expect(lock.code, lock.output).toBe(0);
    expect(lock.stdout).toContain('Usage: deploy lock [options] [command]');
    const releases = await runCli(['releases', '--help']);
    expect(releases.code, releases.output).toBe(0);
    expect(releases.stdout).toContain('Global Options:');
    expect(releases.stdout).toMatch(/-c, --config <file>/);
    expect(releases.stdout).toMatch(/-o, --option <key=value>/);
  });

  it('`deploy hosts` without a selector lists every host with its stage and labels', async () => {
    const p = project('hosts', { default_selector: 'staging' });
    const r = await runCli(['-c', p.file, 'hosts']);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/^web1 +production +\S+ +\S+ +role=web$/m);
    expect(r.stdout).toMatch(/^db1 +staging +\S+ +\S+ +-$/m);
  });

  it('`deploy list` prints the stages with the hooks around them, in order, and the tasks', async () => {
    const p = project('list', {
      hooks: {
        before: { symlink: [{ task: 'migrate', once: true }] },
        after: { upload: ['composer install --no-dev'], success: [{ run: 'notify-team', local: true }] },
      },
      tasks: { migrate: ['php artisan migrate --force'], 'cache:clear': ['php artisan cache:clear'] },
    });
    const r = await runCli(['-c', p.file, 'list']);
    expect(r.code, r.output).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.trim());
    const order = [
      /^upload +Upload the code$/,
      /^after upload +composer install --no-dev$/,
      /^before symlink +php artisan migrate --force +\[once\]$/,
      /^symlink +Switch current to the new release$/,
      /^after success +notify-team \(on this machine\)$/,
      /^migrate$/,
      /^cache:clear$/,
    ].map((re) => lines.findIndex((l) => re.test(l)));
    expect(
      order.every((i) => i >= 0),
      r.stdout,
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});

describe('deploy run', () => {
  it('`deploy run web1 uname -a`: what follows the selector is the command, options and all', async () => {
    const p = project('run');
    expect((await runCli(['-c', p.file, 'web1'])).code).toBe(0);
    const r = await runCli(['-c', p.file, 'run', 'web1', 'uname', '-a']);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/^\[web1\] Linux /);
    // `-c` is ls's option here, not --config.
    const ls = await runCli(['-c', p.file, 'run', 'web1', 'ls', '-c']);
    expect(ls.code, ls.output).toBe(0);
    expect(ls.stdout).toContain('[web1] index.html');
  });
});

describe('what a person reads during and after a run', () => {
  it('a failed deploy names its cleanup stage by its title, not `discard: discard`', async () => {
    const p = project('labels', { hooks: { before: { symlink: ['exit 1'] } } });
    const r = await runCli(['-c', p.file, 'web1'], { env: NO_CI });
    expect(r.code, r.output).toBe(1);
    expect(r.stdout).toContain('web1: > discard: Remove the failed release');
    expect(r.stdout).not.toMatch(/> (\S+): \1$/m);
  });

  it('on a terminal: after a failed hook the lock shows released, not skipped; a pty of 0 columns gets lines, not a letter per line', async () => {
    const p = project('terminal', { hooks: { before: { symlink: ['echo checking; exit 1'] } } });
    const tty = await runCliOnTerminal(['-c', p.file, 'web1'], NO_CI);
    expect(tty.code, tty.output).toBe(1);
    const text = plainText(tty.output);
    expect(text).toContain('✔ Release the deploy lock');
    expect(text).not.toMatch(/↓ Release the deploy lock/);
    expect(text).toContain('↓ Switch current to the new release (skipped)');

    const narrow = await runCliOnTerminal(['-c', p.file, 'web1'], NO_CI, { cols: 0 });
    expect(narrow.code, narrow.output).toBe(1);
    const lines = plainText(narrow.output).split('\n');
    let run = 0;
    let longest = 0;
    for (const l of lines) {
      run = l.trim().length <= 1 ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    expect(longest, narrow.output).toBeLessThan(3);
    expect(narrow.output).toMatch(/web1: FAILED before:symlink/);
  });

  it('`deploy rollback` with nothing to roll back to shows the live release unchanged, not failed', async () => {
    const p = project('nothing-back');
    expect((await runCli(['-c', p.file, 'web1'])).code).toBe(0);
    const [only] = releasesOf(p.deployPath);
    const r = await runCli(['-c', p.file, 'rollback', 'web1'], { env: NO_CI });
    expect(r.code, r.output).toBe(1);
    expect(r.stdout).toContain('rolling back web1');
    expect(r.stdout).toMatch(new RegExp(`^web1 +${only} +unchanged +`, 'm'));
    expect(r.stdout).not.toMatch(new RegExp(`${only} +failed`));
    expect(r.stderr).toContain('no successful release older than');
  });
});

describe('a recipe never weakens what the user wrote', () => {
  it('recipe auto on a Node app with shared_files: [.env] and no .env anywhere exits 1 (missing shared file)', async () => {
    const p = project(
      'node-env',
      { recipe: 'auto', shared_files: ['.env'] },
      {
        'package.json': JSON.stringify({ name: 'app', dependencies: { express: '4.0.0' } }),
        'server.js': 'console.log(1)\n',
      },
    );
    const config = await runCli(['-c', p.file, 'config', '--json', 'web1']);
    const resolved = JSON.parse(config.stdout) as Record<string, { persistence: Record<string, unknown> }>;
    // The node recipe lists .env as optional; what the user wrote wins.
    expect(resolved.web1!.persistence).toMatchObject({
      recipe: 'node',
      shared_files: [{ path: '.env', optional: false }],
    });
    const r = await runCli(['-c', p.file, 'web1'], { env: NO_CI });
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain('ESHAREDMISSING: web1: required shared files are missing: .env');
    expect(fs.existsSync(path.join(p.deployPath, 'current'))).toBe(false);
  });
});
