import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { githubCommands } from '../support/hostile.js';
import { releasesOf, runCli, sshHost, writeConfig, writeTree } from '../support/project.js';
import { useSshd } from '../support/sshd-fixture.js';

/**
 * What hooks print reaches the person as it comes, ordinary shell runs in them unchanged, and
 * they know the release they run for: over a real sshd, as a user runs `deploy`.
 */
const suite = useSshd('shipshape-hook-output-');

const NO_CI = { GITHUB_ACTIONS: '', GITLAB_CI: '' };

function project(name: string, extra: Record<string, unknown>, hosts = ['web']) {
  const dir = path.join(suite.work, name);
  writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n' });
  const file = writeConfig(dir, {
    application: name,
    source: 'app',
    hosts: Object.fromEntries(
      hosts.map((h) => [h, sshHost(suite.server, path.join(dir, `srv-${h}`), { stage: 'production' })]),
    ),
    ...extra,
  });
  return { dir, file, deployPath: (h = 'web') => path.join(dir, `srv-${h}`) };
}

/** The lines of output a hook printed, as the plain renderer shows them (`| line`). */
const printed = (output: string): string[] =>
  output
    .split('\n')
    .map((l) => /^\S+ (?:\[[^\]]+\] )?\| (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);

describe('hook output and shell-safe hooks', () => {
  it('a loop over ${f} runs as shell, its output and $SHIPSHAPE_RELEASE are shown as they come', async () => {
    const p = project('loop', {
      hooks: {
        after: {
          upload: [
            'for f in a b; do echo "x${f}y"; done',
            'echo "rel=$SHIPSHAPE_RELEASE"',
            'echo "home=${HOME}" >&2',
          ],
        },
      },
    });
    const r = await runCli(['-c', p.file, 'web'], { env: { ...NO_CI, HOME: '/laptop/home' } });
    expect(r.code, r.output).toBe(0);
    const [release] = releasesOf(p.deployPath());
    const lines = printed(r.stdout);
    expect(lines).toEqual(expect.arrayContaining(['xay', 'xby', `rel=${release}`]));
    // Shown in order, stdout and stderr together; ${HOME} is the server's, not this machine's.
    expect(lines.indexOf('xay')).toBeLessThan(lines.indexOf('xby'));
    expect(lines.find((l) => l.startsWith('home='))).not.toBe('home=/laptop/home');
    expect(r.stdout).not.toContain('/laptop/home');
  });

  it('every SHIPSHAPE_* variable, in a remote step and in a local one', async () => {
    const names = [
      'APPLICATION',
      'HOST',
      'STAGE',
      'DEPLOY_PATH',
      'RELEASE',
      'RELEASE_PATH',
      'PREVIOUS_RELEASE',
      'REVISION',
      'USER',
    ];
    const dump = names.map((n) => `${n}=$SHIPSHAPE_${n}`).join(' ');
    const p = project('context', {
      hooks: {
        after: {
          shared: [`echo "remote ${dump}"`, { run: `echo "local ${dump}"`, local: true }],
        },
      },
    });
    const first = await runCli(['-c', p.file, 'web'], { env: NO_CI });
    expect(first.code, first.output).toBe(0);
    const r = await runCli(['-c', p.file, 'web'], { env: NO_CI });
    expect(r.code, r.output).toBe(0);
    const [previous, release] = releasesOf(p.deployPath());
    const user = (await import('node:os')).userInfo().username;
    const expected = (where: string) =>
      [
        where,
        `APPLICATION=context`,
        `HOST=web`,
        `STAGE=production`,
        `DEPLOY_PATH=${p.deployPath()}`,
        `RELEASE=${release}`,
        `RELEASE_PATH=${p.deployPath()}/releases/${release}`,
        `PREVIOUS_RELEASE=${previous}`,
        // Not a git work tree: the revision is unknown, and the variable is set, empty.
        `REVISION=`,
        `USER=${user}`,
      ].join(' ');
    expect(printed(r.stdout)).toEqual(expect.arrayContaining([expected('remote'), expected('local')]));
  });

  it('with several hosts each line names its host; on GitHub it is inside the stage’s fold', async () => {
    const p = project('fleet', { hooks: { after: { upload: ['echo "on $SHIPSHAPE_HOST"'] } } }, [
      'web1',
      'web2',
    ]);
    const r = await runCli(['-c', p.file, 'production'], { env: { ...NO_CI, GITHUB_ACTIONS: 'true' } });
    expect(r.code, r.output).toBe(0);
    const lines = r.stdout.split('\n');
    for (const host of ['web1', 'web2']) {
      const at = lines.findIndex((l) => l.endsWith(`[${host}] | on ${host}`));
      expect(at, r.stdout).toBeGreaterThan(0);
      // The nearest fold above it is this host's hook stage, and it is not closed in between.
      const open = lines.slice(0, at).reduce((found, l, i) => (l.startsWith('::group::') ? i : found), -1);
      expect(lines[open]).toBe(`::group::${host}: Hooks after upload`);
      expect(lines.slice(open, at)).not.toContain('::endgroup::');
    }
    expect(githubCommands(r.stdout).every((c) => ['group', 'endgroup'].includes(c.command))).toBe(true);
  });

  it('-v shows each stage’s commands, -vv every script, -q only the summary; --log keeps everything, masked', async () => {
    const token = 'tok-5ecret-0123456789';
    const p = project('verbosity', {
      hooks: { after: { upload: ['echo "token=${{ env.API_TOKEN }}"', 'echo visible'] } },
    });
    const env = { ...NO_CI, API_TOKEN: token };
    const log = path.join(p.dir, 'deploy.log');

    const quiet = await runCli(['-c', p.file, '-q', '--log', log, 'web'], { env });
    expect(quiet.code, quiet.output).toBe(0);
    expect(quiet.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^HOST +RELEASE +STATUS +DURATION$/),
      expect.stringMatching(/^web +\d{8}-\d{6} +success /),
    ]);
    expect(quiet.stderr).toBe('');

    const plain = await runCli(['-c', p.file, 'web'], { env });
    expect(printed(plain.stdout)).toEqual(['token=***', 'visible']);
    expect(plain.stdout).not.toContain('$ echo visible');
    expect(plain.stdout).not.toContain('script sent:');

    const v = await runCli(['-c', p.file, '-v', 'web'], { env });
    expect(v.code, v.output).toBe(0);
    expect(v.stdout).toContain('web: $ echo visible');
    expect(v.stdout).toContain('web: $ echo "token=***"');
    expect(v.stdout).not.toContain('script sent:');

    const vv = await runCli(['-c', p.file, '-vv', 'web'], { env });
    expect(vv.code, vv.output).toBe(0);
    expect(vv.stdout).toContain('web: script sent:');
    expect(vv.stdout).toContain('set -e');
    for (const r of [quiet, plain, v, vv]) expect(r.output).not.toContain(token);

    // The log of the quiet run holds the whole transcript: stages, hook output, commands, scripts.
    const text = fs.readFileSync(log, 'utf8');
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /m);
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .every((l) => /^\d{4}-\d\d-\d\dT\S+Z /.test(l)),
    ).toBe(true);
    expect(text).toContain('web: > upload: Upload the code');
    expect(text).toContain('| token=***');
    expect(text).toContain('| visible');
    expect(text).toContain('web: $ echo visible');
    expect(text).toContain('web: script sent:');
    expect(text).toMatch(/web +\d{8}-\d{6} +success/);
    expect(text).not.toContain(token);
    expect(fs.statSync(log).mode & 0o777).toBe(0o600);
  });

  it('a hook’s missing ${{ env.VAR }} stops the deploy before any host is contacted, saying how to write a shell variable', async () => {
    const p = project('missing', { hooks: { after: { upload: ['echo "${{ env.NOT_SET_HERE }}"'] } } });
    const r = await runCli(['-c', p.file, 'web'], { env: { ...NO_CI, NOT_SET_HERE: '' } });
    expect(r.code, r.output).toBe(2);
    expect(r.stderr).toContain(
      "hooks.after.upload.0: environment variable NOT_SET_HERE is not set on this machine; export it, or write ${NOT_SET_HERE} to read the server's variable",
    );
    expect(fs.existsSync(p.deployPath())).toBe(false);
  });

  it('a hook that prints no newline at its end does not hide the next stage (its marker starts a line)', async () => {
    const p = project('no-newline', {
      hooks: { after: { upload: ['printf first'], shared: ['printf second'] } },
    });
    const r = await runCli(['-c', p.file, 'web'], { env: NO_CI });
    expect(r.code, r.output).toBe(0);
    expect(printed(r.stdout)).toEqual(['first', 'second']);
    expect(r.stdout).toContain('web: > after:shared: Hooks after shared');
  });
});
