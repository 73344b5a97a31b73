import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
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
import {
  APP_USER,
  describeRealServer,
  realRoot,
  realWritable,
  startAs,
  realSuite,
  uidOf,
} from '../support/real-server.js';
import { quote } from '../../src/remote/sh.js';

/**
 * A deploy cut off on a real server: the deploy user logs in with /bin/sh (dash on Debian) as
 * its login shell, the way `useradd -s /bin/sh` or a stock Debian account has it, and every
 * check reads the result on disk.
 */
describeRealServer('a real server: deploys that are interrupted', () => {
  const hold = holdAfterMv();
  const suite = realSuite({ env: { PATH: `${hold.bin}:/usr/local/bin:/usr/bin:/bin` } });
  afterAll(() => hold.cleanup());

  function project(config: Record<string, unknown>) {
    const r = realRoot('shipshape-interrupt-');
    suite.roots.push(r);
    const source = path.join(r.root, 'app');
    writeTree(source, { 'index.php': 'v1\n' });
    const base = {
      application: 'interrupt',
      source: 'app',
      ...realWritable,
      hosts: { web: sshHost(suite.server, r.deployPath) },
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
    times = 1,
  ) {
    let pid = 0;
    let done = false;
    const result = run({ onSpawn: (p) => (pid = p) }).finally(() => (done = true));
    while (!done && !ready()) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < times && !done; i++) {
      // The next signal only once the CLI has had the time to take in this one.
      if (i > 0) await new Promise((r) => setTimeout(r, 500));
      if (!done) process.kill(pid, signal);
    }
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
  it('Ctrl-C twice exits at once and says what may be left; the stale lock hint and the next deploy clear it', async () => {
    const p = project({});
    expect((await p.cli()).code).toBe(0);
    const first = releasesOf(p.deployPath);
    const started = path.join(p.deployPath, 'hook-started');
    // A hook that ignores the first Ctrl-C's TERM, so the cleanup waits for it and a second one comes.
    p.reconfigure({ hooks: { after: { upload: [`trap '' TERM; touch ${quote(started)}; sleep 20`] } } });
    writeTree(p.source, { 'index.php': 'v2\n' });

    const r = await interruptWhen(
      (o) => p.cli([], o),
      () => fs.existsSync(started),
      'SIGINT',
      2,
    );
    expect(r.code, r.output).toBe(130);
    expect(r.stderr).toContain('interrupted again by SIGINT: exited without cleaning up the hosts');
    expect(r.stderr).toContain('`deploy unlock`');

    p.reconfigure({});
    const blocked = await p.cli();
    expect(blocked.code, blocked.output).toBe(3);
    // The hint names the deploy.yml this run read (-c), as it must be typed again.
    expect(blocked.stderr).toContain(`Run \`deploy -c ${quote(p.file)} unlock web\``);
    expect((await runCli(['-c', p.file, 'unlock', 'web'])).code).toBe(0);
    const next = await p.cli();
    expect(next.code, next.output).toBe(0);
    // The release the first Ctrl-C left is gone from releases/ (pruned, as a release never finished).
    expect(releasesOf(p.deployPath)).toEqual([...first, path.basename(p.live())]);
    expect(fs.existsSync(path.join(p.deployPath, '.deploy/lock'))).toBe(false);
  });

  it('Ctrl-C just after the upload moved the spare into the new release: what a worker wrote into it meanwhile is kept and rescued, not deleted', async () => {
    const p = project({ keep_releases: 1, writable_dirs: ['exports'] });
    writeTree(p.source, { 'exports/.keep': '' });
    expect((await p.cli()).code).toBe(0);
    const first = path.basename(p.live());
    // A queue worker started in the first release and never restarted: its directory moves with it.
    const w = await workerIn(
      path.join(p.deployPath, 'current/exports'),
      'printf "window body\\n" > window.csv',
    );
    try {
      writeTree(p.source, { 'index.php': 'v2\n' });
      expect((await p.cli()).code).toBe(0);
      expect(
        fs.existsSync(path.join(p.deployPath, '.deploy/spare/index.php')),
        'the first release is the spare',
      ).toBe(true);
      const second = p.live();
      writeTree(p.source, { 'index.php': 'v3\n' });
      hold.arm(`-n -t ${path.join(p.deployPath, 'releases')}/`);
      // The worker writes into the spare just after its entries moved into the new release, then Ctrl-C.
      const r = await interruptWhen(
        (o) => p.cli([], o),
        () => hold.reached() && (w.write(), true),
      ).finally(() => hold.release());
      expect(r.code, r.output).toBe(130);
      expect(p.live()).toBe(second);
      const next = await p.cli();
      expect(next.code, next.output).toBe(0);
      const rescued = path.join(p.deployPath, 'shared/.rescued', first, 'exports/window.csv');
      expect(fs.existsSync(rescued), `window.csv was lost:\n${r.output}\n${next.output}`).toBe(true);
      expect(fs.readFileSync(rescued, 'utf8')).toBe('window body\n');
      expect(fs.statSync(rescued).uid).toBe(uidOf(APP_USER));
    } finally {
      w.stop();
    }
  });
});

/**
 * A `mv` first in the sessions' PATH: once armed with a needle, the next mv whose arguments
 * contain it runs, then holds (up to 20 s) until released, so a test can act at that moment.
 */
function holdAfterMv() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-hold-'));
  fs.chmodSync(dir, 0o777);
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { mode: 0o755 });
  const [rule, reached, go] = ['rule', 'reached', 'go'].map((f) => path.join(dir, f)) as [
    string,
    string,
    string,
  ];
  const wrapper = [
    '#!/bin/sh',
    `[ -f ${quote(rule)} ] && needle=$(cat ${quote(rule)}) && case "$*" in *"$needle"*) ;; *) needle= ;; esac`,
    '[ -n "$needle" ] || exec /bin/mv "$@"',
    `/bin/rm -f ${quote(rule)}`,
    '/bin/mv "$@"; rc=$?',
    `: > ${quote(reached)}`,
    `n=200; while [ "$n" -gt 0 ] && [ ! -e ${quote(go)} ]; do sleep 0.1; n=$((n - 1)); done`,
    'exit $rc',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(bin, 'mv'), wrapper, { mode: 0o755 });
  return {
    bin,
    arm: (needle: string) => {
      for (const f of [reached, go]) fs.rmSync(f, { force: true });
      fs.writeFileSync(rule, needle, { mode: 0o644 });
    },
    reached: () => fs.existsSync(reached),
    release: () => fs.writeFileSync(go, ''),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** A process of the app started in `dir`, never restarted, that runs `script` there when told to. */
async function workerIn(dir: string, script: string) {
  const flags = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-worker-'));
  fs.chmodSync(flags, 0o777);
  const [ready, go, done] = ['ready', 'go', 'done'].map((f) => path.join(flags, f)) as [
    string,
    string,
    string,
  ];
  const proc = startAs(
    APP_USER,
    `cd "$1" && touch "$2" && while [ ! -e "$3" ]; do sleep 0.1; done && ${script}; touch "$4"; exec sleep 600`,
    [fs.realpathSync(dir), ready, go, done],
  );
  while (!fs.existsSync(ready)) await new Promise((r) => setTimeout(r, 50));
  return {
    /** Runs the script now and waits for it (blocking: the CLI is a child process and runs on). */
    write: () => {
      fs.writeFileSync(go, '');
      while (!fs.existsSync(done)) spawnSync('sleep', ['0.05']);
    },
    stop: () => {
      proc.kill();
      fs.rmSync(flags, { recursive: true, force: true });
    },
  };
}
