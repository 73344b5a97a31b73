import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { quote } from '../../src/remote/sh.js';
import { releasesOf, runCli, runCliOnTerminal, sshHost, writeConfig, writeTree } from '../support/project.js';
import { useSshd } from '../support/sshd-fixture.js';

/** `deploy task`, `deploy list`, `-o key=value` and `confirm: true`, over a real sshd. */
const suite = useSshd('shipshape-tasks-');

const NO_CI = { GITHUB_ACTIONS: '', GITLAB_CI: '' };

function project(name: string, extra: Record<string, unknown>, hostExtra: Record<string, unknown> = {}) {
  const dir = path.join(suite.work, name);
  writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n' });
  const deployPaths = { web1: path.join(dir, 'srv1'), web2: path.join(dir, 'srv2') };
  const file = writeConfig(dir, {
    application: name,
    source: 'app',
    hosts: {
      web1: sshHost(suite.server, deployPaths.web1, { stage: 'production', ...hostExtra }),
      web2: sshHost(suite.server, deployPaths.web2, { stage: 'production', labels: { role: 'worker' } }),
    },
    ...extra,
  });
  return { dir, file, deployPaths };
}

describe('deploy task', () => {
  it('runs the task in current on every selected host, under the lock, its output shown; exit code of the worst host', async () => {
    const p = project('task', {
      tasks: {
        hello: [
          'echo "hello from $SHIPSHAPE_HOST in $(pwd -P) release $SHIPSHAPE_RELEASE"',
          // The deploy lock is held while the task runs.
          'test -d "$SHIPSHAPE_DEPLOY_PATH/.deploy/lock" && echo locked',
          { run: 'echo "once on $SHIPSHAPE_HOST"', once: true },
        ],
        workers: [{ run: 'echo "worker $SHIPSHAPE_HOST"; exit 3', labels: { role: 'worker' } }],
      },
    });
    expect((await runCli(['-c', p.file, 'production'], { env: NO_CI })).code).toBe(0);
    const release = releasesOf(p.deployPaths.web1)[0]!;

    const r = await runCli(['-c', p.file, 'task', 'hello', 'production'], { env: NO_CI });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain('running task hello on web1, web2');
    for (const [host, dir] of Object.entries(p.deployPaths)) {
      expect(r.stdout).toContain(
        `[${host}] | hello from ${host} in ${dir}/releases/${release} release ${release}`,
      );
      expect(r.stdout).toContain(`[${host}] | locked`);
      expect(fs.existsSync(path.join(dir, '.deploy/lock'))).toBe(false);
    }
    expect(r.stdout).toContain('[web1] | once on web1');
    expect(r.stdout).not.toContain('once on web2');

    const failing = await runCli(['-c', p.file, 'task', 'workers', 'production'], { env: NO_CI });
    expect(failing.code, failing.output).toBe(1);
    expect(failing.stdout).toContain('[web2] | worker web2');
    expect(failing.stderr).toContain('error ETASK: web2: task `workers` failed (exit 3)');
    expect(failing.stderr).toContain('command: echo "worker $SHIPSHAPE_HOST"; exit 3');
    expect(fs.existsSync(path.join(p.deployPaths.web2, '.deploy/lock'))).toBe(false);
  });

  it('an unknown task is a usage error; a host with nothing deployed says to deploy first', async () => {
    const p = project('task-errors', { tasks: { hello: ['echo hi'] } });
    const unknown = await runCli(['-c', p.file, 'task', 'nope', 'web1'], { env: NO_CI });
    expect(unknown.code, unknown.output).toBe(2);
    expect(unknown.stderr).toContain('no task `nope`');
    expect(unknown.stderr).toContain('tasks: hello');
    const fresh = await runCli(['-c', p.file, 'task', 'hello', 'web1'], { env: NO_CI });
    expect(fresh.code, fresh.output).toBe(1);
    expect(fresh.stderr).toContain('no release is live');
    // With the -c this run read: a bare `deploy web1` would look for ./deploy.yml.
    expect(fresh.stderr).toContain(`run \`deploy -c ${quote(p.file)} web1\` first`);
    expect(fs.existsSync(path.join(p.deployPaths.web1, '.deploy/lock'))).toBe(false);
  });
});

describe('-o key=value', () => {
  it('`deploy production -o keep_releases=1` leaves one release', async () => {
    const p = project('override', {});
    for (let i = 0; i < 2; i++) expect((await runCli(['-c', p.file, 'web1'], { env: NO_CI })).code).toBe(0);
    expect(releasesOf(p.deployPaths.web1)).toHaveLength(2);
    const r = await runCli(['-c', p.file, 'production', '-o', 'keep_releases=1'], { env: NO_CI });
    expect(r.code, r.output).toBe(0);
    expect(releasesOf(p.deployPaths.web1)).toHaveLength(1);
    expect(releasesOf(p.deployPaths.web2)).toHaveLength(1);
  });

  it('an override is validated like the file, and its error names the -o, not a line', async () => {
    const p = project('override-bad', {});
    const r = await runCli(
      ['-c', p.file, 'production', '-o', 'keep_releases=0', '-o', 'hosts.web1.prot=22'],
      { env: NO_CI },
    );
    expect(r.code, r.output).toBe(2);
    expect(r.stderr).toContain('-o keep_releases: keep_releases: Too small');
    expect(r.stderr).toContain(
      '-o hosts.web1.prot: hosts.web1.prot: unknown key `prot` — did you mean `port`?',
    );
    expect(fs.existsSync(p.deployPaths.web1)).toBe(false);
  });
});

describe('confirm: true', () => {
  it('without a terminal: exit 2 and nothing created; with --yes it deploys', async () => {
    const p = project('confirm', {}, { confirm: true });
    const refused = await runCli(['-c', p.file, 'web1'], { env: NO_CI });
    expect(refused.code, refused.output).toBe(2);
    expect(refused.stderr).toContain('web1 ask(s) for a confirmation (confirm: true in deploy.yml)');
    expect(refused.stderr).toContain('pass --yes');
    expect(fs.existsSync(p.deployPaths.web1)).toBe(false);
    // A stage that holds it asks too, for every command that changes hosts.
    for (const args of [['production'], ['rollback', 'production'], ['run', 'production', 'true']]) {
      const r = await runCli(['-c', p.file, ...args], { env: NO_CI });
      expect(r.code, `${args.join(' ')}\n${r.output}`).toBe(2);
    }
    const yes = await runCli(['-c', p.file, '--yes', 'web1'], { env: NO_CI });
    expect(yes.code, yes.output).toBe(0);
    expect(releasesOf(p.deployPaths.web1)).toHaveLength(1);
    // web2 has no confirm: nobody is asked.
    expect((await runCli(['-c', p.file, 'web2'], { env: NO_CI })).code).toBe(0);
  });

  it('on a terminal it asks "Deploy <application> to <hosts>? [y/N]"; only y goes ahead', async () => {
    const p = project('confirm-tty', { confirm: ['role=worker'] });
    const prompt = 'Deploy confirm-tty to web1, web2? [y/N] ';
    const no = await runCliOnTerminal(['-c', p.file, 'production'], NO_CI, { input: 'n\n', prompt });
    expect(no.output).toContain(prompt);
    expect(no.code, no.output).toBe(2);
    expect(no.output).toContain('not confirmed: nothing was done on web1, web2');
    expect(fs.existsSync(p.deployPaths.web2)).toBe(false);
    const yes = await runCliOnTerminal(['-c', p.file, 'production'], NO_CI, { input: 'y\n', prompt });
    expect(yes.code, yes.output).toBe(0);
    expect(releasesOf(p.deployPaths.web2)).toHaveLength(1);
  });
});
