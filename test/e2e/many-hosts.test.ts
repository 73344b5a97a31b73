import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logOf, releasesOf, runCli, sshHost, tmpDir, writeConfig, writeTree } from '../support/project.js';
import { startSshd, type SshdServer } from '../support/sshd.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const ALIASES = ['web1', 'web2', 'web3', 'web4', 'web5'];
let servers: SshdServer[];
let work: string;

/** A server-side `tar` that fails when the deploy path holds `.fail-upload`: one host's disk, not SSH, breaks. */
const FAKE_TAR = `#!/bin/sh
prev=''; dir=''
for a in "$@"; do if [ "$prev" = -C ]; then dir=$a; fi; prev=$a; done
if [ -n "$dir" ] && [ -e "$dir/../../.fail-upload" ]; then echo 'tar: simulated write error' >&2; exit 2; fi
exec /bin/tar "$@"
`;

beforeAll(async () => {
  work = tmpDir('shipshape-fleet-');
  const fakeBin = path.join(work, 'fakebin');
  writeTree(fakeBin, { tar: { content: FAKE_TAR, mode: 0o755 } });
  const env = { PATH: `${fakeBin}:/usr/local/bin:/usr/bin:/bin` };
  servers = await Promise.all([startSshd({ env }), startSshd({ env }), startSshd({ env })]);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  fs.rmSync(work, { recursive: true, force: true });
});

/** Five hosts on three sshd processes: web1-2 on the first, web3-4 on the second, web5 on the third. */
function fleet(
  name: string,
  extra: Record<string, unknown> = {},
  perHost: Record<string, Record<string, unknown>> = {},
) {
  const dir = path.join(work, name);
  writeTree(path.join(dir, 'app'), { 'index.html': `<h1>${name}</h1>\n`, 'storage/.keep': '' });
  const serverOf = [0, 0, 1, 1, 2];
  const hosts = Object.fromEntries(
    ALIASES.map((alias, i) => [
      alias,
      sshHost(servers[serverOf[i]!]!, path.join(dir, 'servers', alias), {
        stage: 'production',
        ...perHost[alias],
      }),
    ]),
  );
  const file = writeConfig(dir, {
    application: name,
    source: 'app',
    shared_dirs: ['storage'],
    hosts,
    ...extra,
  });
  const deployPath = (alias: string) => path.join(dir, 'servers', alias);
  const current = (alias: string) => {
    const link = path.join(deployPath(alias), 'current');
    return fs.existsSync(link) ? fs.readlinkSync(link) : undefined;
  };
  return { dir, file, deployPath, current };
}

describe('many hosts over real sshd instances', () => {
  it('deploys five hosts on three sshd processes to the same release', async () => {
    const f = fleet('five');
    const r = await runCli(['-c', f.file, 'production']);
    expect(r.code, r.output).toBe(0);
    const currents = ALIASES.map(f.current);
    expect(new Set(currents).size).toBe(1);
    expect(currents[0]).toMatch(/^releases\/\d{8}-\d{6}$/);
    for (const alias of ALIASES)
      expect(r.stdout).toMatch(new RegExp(`^${alias}\\s+\\d{8}-\\d{6}\\s+success`, 'm'));
  });

  it('one host failing in upload switches no host and leaves no release behind', async () => {
    const f = fleet('one-fails');
    expect((await runCli(['-c', f.file, 'production'])).code).toBe(0);
    const before = Object.fromEntries(
      ALIASES.map((a) => [a, { current: f.current(a), releases: releasesOf(f.deployPath(a)) }]),
    );
    fs.writeFileSync(path.join(f.deployPath('web3'), '.fail-upload'), '');
    const r = await runCli(['-c', f.file, 'production']);
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain('web3: stage `upload` failed');
    for (const alias of ALIASES) {
      expect(f.current(alias), alias).toBe(before[alias]!.current);
      expect(releasesOf(f.deployPath(alias)), alias).toEqual(before[alias]!.releases);
      expect(fs.existsSync(path.join(f.deployPath(alias), '.deploy/lock')), alias).toBe(false);
      expect(logOf(f.deployPath(alias)).at(-1)?.status, alias).toBe('failed');
    }
  });

  /**
   * Rolling batches of 2 over a fleet deployed once: the second deploy's health check fails on
   * web3, in batch 2 of 3. Returns what each host ran before, the new release, and the run.
   */
  async function rollingFailsOnWeb3(name: string, extra: Record<string, unknown> = {}) {
    const unhealthy = path.join(work, `${name}-web3-unhealthy`);
    const f = fleet(
      name,
      { strategy: 'rolling', batch_size: 2, healthcheck: { command: 'true', retries: 0 }, ...extra },
      {
        web3: {
          healthcheck: { command: `test ! -e '${unhealthy}' || { echo unhealthy >&2; false; }`, retries: 0 },
        },
      },
    );
    const first = await runCli(['-c', f.file, 'production']);
    expect(first.code, first.output).toBe(0);
    const previous = Object.fromEntries(ALIASES.map((a) => [a, f.current(a)]));
    for (const a of ALIASES) expect(previous[a], a).toMatch(/^releases\//);

    fs.writeFileSync(unhealthy, '');
    const r = await runCli(['-c', f.file, 'production']);
    expect(r.code, r.output).toBe(4);
    const newest = releasesOf(f.deployPath('web1')).at(-1)!;
    expect(`releases/${newest}`).not.toBe(previous.web1);
    expect(f.current('web3')).toBe(previous.web3);
    expect(f.current('web4')).toBe(previous.web4);
    expect(f.current('web5')).toBe(previous.web5);
    expect(releasesOf(f.deployPath('web5'))).not.toContain(newest);
    expect(r.output).toContain('rolling: batch 2/3: web3, web4');
    expect(r.output).toContain('unhealthy');
    expect(r.output).toContain('not started: web5');
    return { f, previous, newest, r };
  }

  it('rolling batches of 2: a failing health check on web3 rolls back its batch, keeps the first, skips the rest', async () => {
    const { f, newest, r } = await rollingFailsOnWeb3('rolling');
    expect(f.current('web1')).toBe(`releases/${newest}`);
    expect(f.current('web2')).toBe(`releases/${newest}`);
    expect(r.output).toContain('web1, web2 stay on the new release');
  });

  it('rolling with rollback_on_failure: all also switches the earlier batch back', async () => {
    const { f, previous, newest, r } = await rollingFailsOnWeb3('rolling-all', {
      rollback_on_failure: 'all',
    });
    for (const a of ['web1', 'web2']) {
      expect(f.current(a), a).toBe(previous[a]);
      expect(logOf(f.deployPath(a)).at(-1), a).toMatchObject({ name: newest, status: 'rolled_back' });
      expect(fs.existsSync(path.join(f.deployPath(a), '.deploy/lock')), a).toBe(false);
    }
    expect(r.output).toContain('rollback_on_failure is all: rolling back web1, web2');
    expect(r.output).not.toContain('stay on the new release');
  });

  it('--parallel 2 keeps at most two SSH connections open, and still deploys every host', async () => {
    const server = servers[0]!;
    const proxy = await startTcpProxy(server.port);
    try {
      const dir = path.join(work, 'parallel');
      writeTree(path.join(dir, 'app'), { 'index.html': 'x\n' });
      const knownHosts = path.join(dir, 'known_hosts');
      fs.writeFileSync(knownHosts, `[127.0.0.1]:${proxy.port} ${server.hostPublicKey}\n`);
      const hosts = Object.fromEntries(
        ALIASES.map((a) => [
          a,
          sshHost(server, path.join(dir, 'servers', a), {
            port: proxy.port,
            known_hosts_file: knownHosts,
            stage: 'production',
          }),
        ]),
      );
      const file = writeConfig(dir, { application: 'parallel', source: 'app', hosts });
      const r = await runCli(['-c', file, '--parallel', '2', 'production']);
      expect(r.code, r.output).toBe(0);
      expect(proxy.maxConcurrent()).toBe(2);
      expect(proxy.accepted()).toBeGreaterThanOrEqual(5);
      for (const a of ALIASES) expect(fs.existsSync(path.join(dir, 'servers', a, 'current')), a).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});
