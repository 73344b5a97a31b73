import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releasesOf, runCli, sshHost, writeConfig, writeTree } from '../support/project.js';
import type { SshdServer } from '../support/sshd.js';
import { startAgent, useSshd } from '../support/sshd-fixture.js';

let server: SshdServer;
let work: string;
let home: string;
let agent: ChildProcess | undefined;
let file: string;
let deployPath: string;

const env = (extra: Record<string, string> = {}) => ({
  HOME: home,
  SSH_AUTH_SOCK: '',
  SSH_PRIVATE_KEY: '',
  ...extra,
});

useSshd('shipshape-sshcmd-', (fx) => ({ server, work, home } = fx));

beforeAll(async () => {
  writeTree(path.join(work, 'app'), { 'index.html': 'hello from current\n' });
  deployPath = path.join(work, 'server');
  file = writeConfig(work, {
    application: 'cmds',
    source: 'app',
    hosts: {
      web: sshHost(server, deployPath, { stage: 'production' }),
      fresh: sshHost(server, path.join(work, 'never-deployed'), { stage: 'production' }),
      agentweb: sshHost(server, deployPath, { forward_agent: true }),
      // Learns the server's key on first contact, which the commands must say.
      newkey: sshHost(server, deployPath, {
        host_key_checking: 'accept-new',
        known_hosts_file: path.join(work, 'learned_known_hosts'),
      }),
    },
  });
  const first = await runCli(['-c', file, 'web'], { env: env() });
  if (first.code !== 0) throw new Error(`setup deploy failed:\n${first.output}`);
});

afterAll(() => {
  if (agent?.pid) process.kill(agent.pid, 'SIGTERM');
});

describe('deploy run', () => {
  it('runs the command in current and prefixes its output with the host', async () => {
    const r = await runCli(['-c', file, 'run', 'web', '--', 'cat', 'index.html', '&&', 'pwd', '-P'], {
      env: env(),
    });
    expect(r.code, r.output).toBe(0);
    const release = releasesOf(deployPath)[0]!;
    expect(r.stdout).toBe(`[web] hello from current\n[web] ${deployPath}/releases/${release}\n`);
  });

  it('exits non-zero when any host fails, and still prints the others', async () => {
    const r = await runCli(['-c', file, 'run', 'production', '--', 'echo ran here'], { env: env() });
    expect(r.code, r.output).toBe(1);
    expect(r.stdout).toContain('[web] ran here');
    expect(r.stdout).not.toContain('[fresh] ran here');
    expect(r.stderr).toContain('[fresh] error ERUN: fresh: command exited with 2');
  });

  it('reports the command’s own exit code and stderr', async () => {
    const r = await runCli(['-c', file, 'run', 'web', '--', 'echo oops >&2; exit 7'], { env: env() });
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain('[web] oops');
    expect(r.stderr).toContain('[web] error ERUN: web: command exited with 7');
  });

  it('prints the command’s stderr when it succeeds too', async () => {
    const r = await runCli(['-c', file, 'run', 'web', '--', 'echo note >&2; echo done'], { env: env() });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toBe('[web] done\n');
    expect(r.stderr).toContain('[web] note');
  });

  it('Ctrl-C stops the command on the host and exits 130', async () => {
    const pidFile = path.join(work, 'run.pid');
    let cli = 0;
    const running = runCli(['-c', file, 'run', 'web', '--', `echo $$ > ${pidFile}; exec sleep 300`], {
      env: env(),
      onSpawn: (pid) => (cli = pid),
    });
    while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, 'utf8').trim() === '') await delay(50);
    const remote = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(cli, 'SIGINT');
    const r = await running;
    expect(r.code, r.output).toBe(130);
    expect(r.stderr).toContain('interrupted by SIGINT');
    const alive = () => {
      try {
        process.kill(remote, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 100 && alive(); i++) await delay(50);
    expect(alive()).toBe(false);
  });

  it('prints connection warnings (a host key learned)', async () => {
    // First contact whatever ran before: another test may have taught newkey the key already.
    fs.rmSync(path.join(work, 'learned_known_hosts'), { force: true });
    const r = await runCli(['-c', file, 'run', 'newkey', '--', 'true'], { env: env() });
    expect(r.code, r.output).toBe(0);
    expect(r.stderr).toContain('[newkey] warning: permanently added the host key of newkey');
  });
});

describe('deploy verify', () => {
  it('prints connection warnings (a host key learned)', async () => {
    fs.rmSync(path.join(work, 'learned_known_hosts'), { force: true });
    const r = await runCli(['-c', file, 'verify', 'newkey'], { env: env() });
    expect(r.stdout).toContain('newkey (recipe');
    expect(r.stderr).toContain('newkey: warn: permanently added the host key of newkey');
  });
});

describe('deploy ssh', () => {
  it('opens a login shell with a pty in current; its exit code becomes ours', async () => {
    const r = await runCli(['-c', file, 'ssh', 'web'], {
      env: env(),
      input: 'test -t 0 && echo "tty:yes"; echo "at:$(pwd -P)"; exit 3\n',
    });
    expect(r.code, r.output).toBe(3);
    const release = releasesOf(deployPath)[0]!;
    expect(r.stdout).toContain(`at:${deployPath}/releases/${release}`);
    expect(r.stdout).toContain('tty:yes');
  });

  it('refuses a selector that matches several hosts', async () => {
    const r = await runCli(['-c', file, 'ssh', 'production'], { env: env() });
    expect(r.code, r.output).toBe(2);
    expect(r.stderr).toContain('needs exactly one host; `production` matches web, fresh');
  });
});

describe('forward_agent', () => {
  it('lets commands on the server use the local agent only when asked', async () => {
    const sock = path.join(work, 'agent.sock');
    agent = await startAgent(sock, server.identityFile);
    const fingerprint = execFileSync('ssh-keygen', ['-lf', `${server.identityFile}.pub`], {
      encoding: 'utf8',
    }).split(' ')[1]!;

    const forwarded = await runCli(['-c', file, 'run', 'agentweb', '--', 'ssh-add -l'], {
      env: env({ SSH_AUTH_SOCK: sock }),
    });
    expect(forwarded.code, forwarded.output).toBe(0);
    expect(forwarded.stdout).toContain(fingerprint);

    const notForwarded = await runCli(['-c', file, 'run', 'web', '--', 'ssh-add -l'], {
      env: env({ SSH_AUTH_SOCK: sock }),
    });
    expect(notForwarded.code, notForwarded.output).toBe(1);
    expect(notForwarded.stdout).not.toContain(fingerprint);
  });
});
