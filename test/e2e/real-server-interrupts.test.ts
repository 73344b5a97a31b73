import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  logOf,
  releasesOf,
  runCli,
  sshHost,
  writeConfig,
  writeTree,
  type CliOptions,
  type CliResult,
} from '../support/project.js';
import { describeRealServer, realRoot, realWritable, startRealSshd } from '../support/real-server.js';
import type { SshdServer } from '../support/sshd.js';
import { quote } from '../../src/remote/sh.js';

/**
 * A deploy cut off on a real server: the deploy user logs in with /bin/sh (dash on Debian) as
 * its login shell, the way `useradd -s /bin/sh` or a stock Debian account has it, and every
 * check reads the result on disk.
 */
describeRealServer('a real server: deploys that are interrupted', () => {
  let server: SshdServer;
  const roots: { cleanup(): void }[] = [];

  beforeAll(async () => {
    server = await startRealSshd();
  });
  afterAll(async () => {
    await server?.stop();
    for (const r of roots) r.cleanup();
  });

  function project(config: Record<string, unknown>) {
    const r = realRoot('shipshape-interrupt-');
    roots.push(r);
    const source = path.join(r.root, 'app');
    writeTree(source, { 'index.php': 'v1\n' });
    const base = {
      application: 'interrupt',
      source: 'app',
      ...realWritable,
      hosts: { web: sshHost(server, r.deployPath) },
      ...config,
    };
    const file = writeConfig(r.root, base);
    /** Rewrites deploy.yml with `extra` on top of the project's settings. */
    const reconfigure = (extra: Record<string, unknown>) => writeConfig(r.root, { ...base, ...extra });
    const cli = (args: string[] = [], o: CliOptions = {}) => runCli(['-c', file, ...args, 'web'], o);
    const live = () => fs.readlinkSync(path.join(r.deployPath, 'current'));
    return { ...r, source, file, reconfigure, cli, live };
  }

  /** Runs the CLI and sends `signal` once `ready()` holds (polled while the CLI runs). */
  async function interruptWhen(
    run: (o: CliOptions) => Promise<CliResult>,
    ready: () => boolean,
    signal: NodeJS.Signals = 'SIGINT',
  ) {
    let pid = 0;
    let done = false;
    const result = run({ onSpawn: (p) => (pid = p) }).finally(() => (done = true));
    while (!done && !ready()) await new Promise((r) => setTimeout(r, 50));
    if (!done) process.kill(pid, signal);
    return result;
  }

  it('Ctrl-C during a long hook stops it on the server (dash as the login shell), removes the release and frees the lock', async () => {
    const p = project({});
    expect((await p.cli()).code).toBe(0);
    const before = { live: p.live(), releases: releasesOf(p.deployPath) };
    const started = path.join(p.deployPath, 'hook-started');
    const finished = path.join(p.deployPath, 'hook-finished');
    // Without the kill, the deploy waits for the whole sleep and the hook goes on to its last step.
    const hook = `touch ${quote(started)}; sleep 20; touch ${quote(finished)}`;
    p.reconfigure({ hooks: { after: { upload: [hook] } } });
    writeTree(p.source, { 'index.php': 'v2\n' });

    const r = await interruptWhen(
      (o) => p.cli([], o),
      () => fs.existsSync(started),
    );
    expect(r.code, r.output).toBe(130);
    expect(r.stderr).toContain('EINTERRUPTED');
    expect(fs.existsSync(finished), 'the hook ran on after Ctrl-C').toBe(false);
    expect(p.live()).toBe(before.live);
    expect(releasesOf(p.deployPath)).toEqual(before.releases);
    expect(fs.existsSync(path.join(p.deployPath, '.deploy/lock'))).toBe(false);
    expect(logOf(p.deployPath).at(-1)).toMatchObject({ status: 'failed' });
  });
});
