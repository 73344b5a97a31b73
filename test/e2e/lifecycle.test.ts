import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// duplicates: the same support imports as deploy.test.ts (both are deploy e2e files).
import {
  logOf,
  releasesOf,
  runCli,
  snapshot,
  sshHost,
  sshProject,
  writeConfig,
  writeTree,
} from '../support/project.js';
import { DEPLOY } from '../../src/engine/pipeline.js';
import { quote } from '../../src/remote/sh.js';
import type { SshdServer } from '../support/sshd.js';
import { useSshd } from '../support/sshd-fixture.js';

let server: SshdServer;
let work: string;

useSshd('shipshape-lifecycle-', (fx) => ({ server, work } = fx));

function project(name: string, extra: Record<string, unknown> = {}, hostExtra: Record<string, unknown> = {}) {
  return sshProject(
    server,
    work,
    name,
    { 'index.html': `<p>${name}</p>\n`, 'health.txt': 'ok\n' },
    { config: extra, host: hostExtra },
  );
}

/** The project's deploy.yml written again, same app and host, with `extra` keys: a changed config. */
const reconfigure = (file: string, deployPath: string, extra: Record<string, unknown>): string =>
  writeConfig(path.dirname(file), {
    application: path.basename(path.dirname(file)),
    source: 'app',
    hosts: { web: sshHost(server, deployPath) },
    ...extra,
  });

const current = (deployPath: string) => fs.readlinkSync(path.join(deployPath, 'current'));
const lockFree = (deployPath: string) => !fs.existsSync(path.join(deployPath, '.deploy/lock'));

/** A deploy that failed left the host as `before`: same release live, none added, lock free, logged failed. */
function expectFailedCleanly(deployPath: string, before: { current: string; releases: string[] }): void {
  expect(current(deployPath)).toBe(before.current);
  expect(releasesOf(deployPath)).toEqual(before.releases);
  expect(lockFree(deployPath)).toBe(true);
  expect(logOf(deployPath).at(-1)?.status).toBe('failed');
}
const statusOf = (deployPath: string) => {
  const folded = new Map<string, string>();
  for (const e of logOf(deployPath)) folded.set(e.name, e.status);
  return folded;
};

async function deployOk(file: string, ...args: string[]) {
  const r = await runCli(['-c', file, ...args, 'web']);
  expect(r.code, r.output).toBe(0);
  return r;
}

describe('rollback and releases', () => {
  it('A, B, C; rollback twice; --to refuses a rolled-back release; releases --json shows the history', async () => {
    const { deployPath, file } = project('rollback');
    for (let i = 0; i < 3; i++) await deployOk(file);
    const [a, b, c] = releasesOf(deployPath);
    expect(current(deployPath)).toBe(`releases/${c}`);

    const execsBefore = await server.execRequests();
    const first = await runCli(['-c', file, 'rollback', 'web']);
    expect(first.code, first.output).toBe(0);
    expect(await server.execRequests()).toBeLessThanOrEqual(execsBefore + 2);
    expect(current(deployPath)).toBe(`releases/${b}`);
    expect(statusOf(deployPath).get(c!)).toBe('rolled_back');
    expect(first.stderr).toContain(`rolled back from ${c} to ${b}`);
    expect(lockFree(deployPath)).toBe(true);

    const second = await runCli(['-c', file, 'rollback', 'web']);
    expect(second.code, second.output).toBe(0);
    expect(current(deployPath)).toBe(`releases/${a}`);

    const refused = await runCli(['-c', file, 'rollback', 'web', '--to', c!]);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.stderr).toContain(`ENOROLLBACK: web: release ${c} is rolled back; pass --force`);
    expect(current(deployPath)).toBe(`releases/${a}`);
    expect(lockFree(deployPath)).toBe(true);

    const nothing = await runCli(['-c', file, 'rollback', 'web']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain(`no successful release older than ${a}`);

    const listed = await runCli(['-c', file, 'releases', 'web', '--json']);
    expect(listed.code, listed.output).toBe(0);
    const json = JSON.parse(listed.stdout) as {
      hosts: { host: string; current: string; releases: { name: string; status: string; user: string }[] }[];
    };
    expect(json.hosts[0]!.current).toBe(a);
    expect(json.hosts[0]!.releases.map((r) => [r.name, r.status])).toEqual([
      [a, 'current'],
      [b, 'rolled_back'],
      [c, 'rolled_back'],
    ]);
    expect(json.hosts[0]!.releases[0]!.user).toBeTruthy();

    const forced = await runCli(['-c', file, 'rollback', 'web', '--to', c!, '--force', '--json']);
    expect(forced.code, forced.output).toBe(0);
    expect(JSON.parse(forced.stdout).hosts[0]).toMatchObject({
      host: 'web',
      from: a,
      to: c,
      status: 'rolled_back',
    });
    expect(current(deployPath)).toBe(`releases/${c}`);

    const table = await runCli(['-c', file, 'releases', 'web']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      new RegExp(`${c}\\s+current\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\(.+ago\\)`),
    );
    expect(table.stdout).toMatch(new RegExp(`${a}\\s+rolled back`));
  });
});

describe('rollback on several hosts', () => {
  it('switches no host when one has nothing to roll back to, and says which host is where', async () => {
    const base = path.join(work, 'fleet');
    writeTree(path.join(base, 'app'), { 'index.html': 'x\n' });
    const [one, two] = [path.join(base, 'one'), path.join(base, 'two')];
    const file = writeConfig(base, {
      application: 'fleet',
      source: 'app',
      hosts: {
        one: sshHost(server, one, { stage: 'production' }),
        two: sshHost(server, two, { stage: 'production' }),
      },
    });
    expect((await runCli(['-c', file, 'production'])).code).toBe(0);
    expect((await runCli(['-c', file, 'one'])).code).toBe(0);
    const before = [current(one), current(two)];

    const r = await runCli(['-c', file, 'rollback', 'production', '--json']);
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain('ENOROLLBACK: two: no successful release older than');
    const json = JSON.parse(r.stdout) as { hosts: { host: string; status: string; to: string }[] };
    expect(json.hosts.map((h) => [h.host, h.status, h.to])).toEqual([
      ['one', 'skipped', before[0]!.replace('releases/', '')],
      ['two', 'failed', before[1]!.replace('releases/', '')],
    ]);
    expect([current(one), current(two)]).toEqual(before);
    expect(lockFree(one) && lockFree(two)).toBe(true);

    const ok = await runCli(['-c', file, 'rollback', 'one']);
    expect(ok.code, ok.output).toBe(0);
    expect(current(one)).toBe(before[1]);
  });
});

// duplicates: each hook test deploys, changes one key and checks the outcome; only the key differs.
describe('hooks', () => {
  it('a before-symlink hook that exits 1 fails the deploy: exit 1, current unchanged, release removed, lock free', async () => {
    const { deployPath, file } = project('hook-fails');
    await deployOk(file);
    const before = { current: current(deployPath), releases: releasesOf(deployPath) };
    const failing = reconfigure(file, deployPath, {
      hooks: { before: { symlink: ['echo checking; exit 1'] } },
    });
    const r = await runCli(['-c', failing, 'web']);
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain('stage `before:symlink` failed');
    expectFailedCleanly(deployPath, before);
  });

  it('a hook after symlink that fails switches back: exit 4, previous release live, new one removed', async () => {
    const { deployPath, file: plain } = project('after-hook-fails');
    await deployOk(plain);
    const before = { current: current(deployPath), releases: releasesOf(deployPath) };
    const file = reconfigure(plain, deployPath, {
      hooks: { after: { symlink: ['echo cache warmup failed >&2; exit 3'] } },
    });
    const r = await runCli(['-c', file, 'web']);
    expect(r.code, r.output).toBe(4);
    expect(r.stderr).toContain('EAFTERSWITCH: web: stage `after:symlink` failed after the switch (exit 3)');
    expect(r.stderr).toContain('cache warmup failed');
    expectFailedCleanly(deployPath, before);
  });

  it('runs remote steps in the release, tasks by name, local steps in source before upload', async () => {
    const { source, deployPath, file } = project('hook-order', {
      tasks: { stamp: ['pwd > stamp-dir.txt'] },
      hooks: {
        before: {
          upload: [{ run: 'echo built > build.txt', local: true }],
          symlink: [{ task: 'stamp' }, 'test -f build.txt'],
        },
      },
    });
    const execs = await server.execRequests();
    await deployOk(file);
    // Hooks run inside the phase scripts: the deploy stays within its budget of six exec requests.
    expect((await server.execRequests()) - execs).toBeLessThanOrEqual(6);
    const [release] = releasesOf(deployPath);
    expect(fs.readFileSync(path.join(deployPath, 'current/stamp-dir.txt'), 'utf8').trim()).toBe(
      path.join(deployPath, 'releases', release!),
    );
    expect(fs.readFileSync(path.join(source, 'build.txt'), 'utf8')).toBe('built\n');
  });

  it('a `once: true` step runs on exactly one of two hosts', async () => {
    const base = path.join(work, 'once');
    writeTree(path.join(base, 'app'), { 'index.html': 'x\n' });
    const paths = [path.join(base, 'one'), path.join(base, 'two')];
    const file = writeConfig(base, {
      application: 'once',
      source: 'app',
      hosts: {
        one: sshHost(server, paths[0]!, { stage: 'production' }),
        two: sshHost(server, paths[1]!, { stage: 'production' }),
      },
      hooks: { after: { shared: [{ run: 'touch ../../migrated', once: true }, 'touch ../../everywhere'] } },
    });
    const r = await runCli(['-c', file, 'production']);
    expect(r.code, r.output).toBe(0);
    const migrated = paths.filter((p) => fs.existsSync(path.join(p, 'migrated')));
    expect(migrated).toHaveLength(1);
    expect(paths.every((p) => fs.existsSync(path.join(p, 'everywhere')))).toBe(true);
  });
});

describe('health-gated switch', () => {
  it('a URL check answering 500 for the new release switches back, logs failed, exits 4', async () => {
    const { source, deployPath, file: plain } = project('health-url');
    const httpServer = http.createServer((_req, res) => {
      // Answers from what `current` holds, as the app behind a web server would.
      const body = fs.readFileSync(path.join(deployPath, 'current/health.txt'), 'utf8');
      res.writeHead(body.trim() === 'ok' ? 200 : 500).end(body);
    });
    await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
    try {
      const { port } = httpServer.address() as AddressInfo;
      const file = reconfigure(plain, deployPath, {
        healthcheck: { url: `http://127.0.0.1:${port}/health`, retries: 1, interval: 0.2 },
        hooks: { after: { rollback: ['echo rolled > ../../after-rollback.txt'] } },
      });
      await deployOk(file);
      const good = current(deployPath);
      fs.writeFileSync(path.join(source, 'health.txt'), 'broken\n');
      const r = await runCli(['-c', file, 'web']);
      expect(r.code, r.output).toBe(4);
      expect(r.stderr).toContain('EHEALTH');
      expect(r.stderr).toContain('answered 500 (expected 200): broken');
      expect(current(deployPath)).toBe(good);
      const bad = releasesOf(deployPath).at(-1)!;
      expect(`releases/${bad}`).not.toBe(good);
      expect(statusOf(deployPath).get(bad)).toBe('failed');
      expect(fs.readFileSync(path.join(deployPath, 'after-rollback.txt'), 'utf8')).toBe('rolled\n');
      expect(lockFree(deployPath)).toBe(true);
    } finally {
      httpServer.close();
    }
  });
});

describe('cleanup', () => {
  it('five failed deploys in a row prune no successful release (keep_releases: 2)', async () => {
    const { source, deployPath, file } = project('five-failed', {
      keep_releases: 2,
      healthcheck: { command: 'test -f HEALTHY', retries: 0, interval: 0 },
    });
    writeTree(source, { HEALTHY: '' });
    await deployOk(file);
    await deployOk(file);
    const successes = releasesOf(deployPath);
    fs.rmSync(path.join(source, 'HEALTHY'));
    for (let i = 0; i < 5; i++) {
      const execs = await server.execRequests();
      const r = await runCli(['-c', file, 'web']);
      expect(r.code, r.output).toBe(4);
      expect(r.stderr).toContain('EHEALTH: web: health check failed after the switch: health check exited 1');
      // prepare, upload, link, switch, the check, the switch back: six at most.
      expect((await server.execRequests()) - execs).toBeLessThanOrEqual(6);
    }
    expect(releasesOf(deployPath).filter((r) => successes.includes(r))).toEqual(successes);
    expect(current(deployPath)).toBe(`releases/${successes[1]}`);
    const failed = [...statusOf(deployPath)].filter(([, s]) => s === 'failed').map(([n]) => n);
    expect(failed).toHaveLength(5);

    writeTree(source, { HEALTHY: '' });
    await deployOk(file);
    const left = releasesOf(deployPath);
    // The newest two successes stay; failed releases older than the newest kept success go.
    expect(left).toEqual([successes[1], left.at(-1)]);
  });
});

/** Runs the CLI and sends `signal` once a line matching `marker` appeared on its stdout. */
async function interruptAt(args: string[], marker: RegExp, signal: NodeJS.Signals = 'SIGINT') {
  let pid = 0;
  let sentAt = 0;
  const result = runCli(args, {
    onSpawn: (p) => (pid = p),
    onStdout: (text) => {
      if (!sentAt && marker.test(text)) {
        sentAt = Date.now();
        process.kill(pid, signal);
      }
    },
  });
  const r = await result;
  return { ...r, sent: sentAt > 0, tookMs: Date.now() - sentAt };
}

/**
 * Runs the CLI and sends `signal` once `file` exists (a hook touched it): a moment no clock
 * decides. `then` runs right after the signal is sent (to let a waiting hook end).
 */
/** Two hosts of stage `production`, `one` and `two`, deploying `app/` under `work/<name>`. */
function twoHosts(name: string) {
  const base = path.join(work, name);
  writeTree(path.join(base, 'app'), { 'index.html': 'x\n' });
  const [one, two] = [path.join(base, 'one'), path.join(base, 'two')];
  const configure = (extra: Record<string, unknown>): string =>
    writeConfig(base, {
      application: name,
      source: 'app',
      ...extra,
      hosts: {
        one: sshHost(server, one, { stage: 'production' }),
        two: sshHost(server, two, { stage: 'production' }),
      },
    });
  return { base, one, two, configure };
}

async function interruptWhenExists(
  args: string[],
  file: string,
  signal: NodeJS.Signals,
  then: () => void = () => {},
) {
  let pid = 0;
  let sent = false;
  const poll = setInterval(() => {
    if (sent || !pid || !fs.existsSync(file)) return;
    sent = true;
    process.kill(pid, signal);
    then();
  }, 20);
  try {
    return { ...(await runCli(args, { onSpawn: (p) => (pid = p) })), sent };
  } finally {
    clearInterval(poll);
  }
}

const psLines = (needle: string): string[] =>
  execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(needle) && !l.includes('ps -eo'));

describe('interrupts', () => {
  it('SIGINT during a long remote hook kills it, removes the release, frees the lock, exits 130', async () => {
    const { deployPath, file: plain } = project('sigint-hook');
    await deployOk(plain);
    const before = { current: current(deployPath), releases: releasesOf(deployPath) };
    // The hook's last step shows whether it was killed or waited for; no clock involved.
    const finished = path.join(work, 'sigint-hook-finished');
    const file = reconfigure(plain, deployPath, {
      hooks: { after: { upload: [`sleep 31.5 && touch ${quote(finished)}`] } },
    });
    const r = await interruptAt(['-c', file, 'web'], /> after:upload/);
    expect(r.sent, r.output).toBe(true);
    expect(r.code, r.output).toBe(130);
    expect(fs.existsSync(finished), 'the hook ran to its end').toBe(false);
    expect(r.stderr).toContain('EINTERRUPTED');
    expect(psLines('sleep 31.5')).toEqual([]);
    expect(current(deployPath)).toBe(before.current);
    expect(releasesOf(deployPath)).toEqual(before.releases);
    expect(lockFree(deployPath)).toBe(true);
    expect(logOf(deployPath).at(-1)).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('interrupted by SIGINT'),
    });
  });

  it('a before:symlink hook whose output holds the text of a stage marker, interrupted: nothing is taken for live, the release is removed', async () => {
    const { deployPath, file: plain } = project('sigint-forged-marker');
    await deployOk(plain);
    const before = { current: current(deployPath), releases: releasesOf(deployPath) };
    // What a migration or a `cat` may print: a line that reads as the script's own "cleanup started".
    const file = reconfigure(plain, deployPath, {
      hooks: {
        before: { symlink: ["printf 'migrating\\n@@shipshape-stage cleanup\\nREADY\\n' >&2; sleep 30"] },
      },
    });
    // Sent once the hook printed READY, or (as before the fix) once the fake marker started `cleanup`.
    const r = await interruptAt(['-c', file, 'web'], /\| READY$|> cleanup:/m);
    expect(r.sent, r.output).toBe(true);
    expect(r.code, r.output).toBe(130);
    expect(r.output).not.toContain('> cleanup:');
    expect(r.output).not.toContain('stays live');
    expect(r.output).not.toMatch(/^web +\S+ +success/m);
    expect(current(deployPath)).toBe(before.current);
    expect(releasesOf(deployPath)).toEqual(before.releases);
    expect(lockFree(deployPath)).toBe(true);
    expect(logOf(deployPath).at(-1)).toMatchObject({ status: 'failed' });
  });

  it('SIGTERM during the upload of a large tree stops tar, leaves no partial release, exits 143', async () => {
    const { source, deployPath, file } = project('sigterm-upload');
    await deployOk(file);
    const before = { current: current(deployPath), releases: releasesOf(deployPath) };
    // Incompressible, so the stream takes a while even over loopback.
    fs.writeFileSync(path.join(source, 'big.bin'), crypto.randomBytes(256 * 1024 * 1024));
    const r = await interruptAt(['-c', file, 'web'], /> upload/, 'SIGTERM');
    expect(r.sent, r.output).toBe(true);
    expect(r.code, r.output).toBe(143);
    expect(psLines(path.join(deployPath, 'releases'))).toEqual([]);
    expect(current(deployPath)).toBe(before.current);
    expect(releasesOf(deployPath)).toEqual(before.releases);
    expect(lockFree(deployPath)).toBe(true);
  });

  // The hook touches `started` first: the signal follows the switch, whatever the machine's speed.
  it.each([
    ['SIGINT', 130, '33.5'],
    ['SIGTERM', 143, '34.5'],
  ] as const)(
    '%s in a hook after the switch stops the hook; the new release stays live, is cleaned up and unlocked; exits %i',
    async (signal, code, seconds) => {
      const name = `${signal.toLowerCase()}-after-switch`;
      const { deployPath, file: plain } = project(name);
      await deployOk(plain);
      const started = path.join(work, `${name}-started`);
      const finished = path.join(work, `${name}-finished`);
      const file = reconfigure(plain, deployPath, {
        // Cleanup leaves the new release alone only if it ran: keep_releases 1 prunes the previous one.
        keep_releases: 1,
        hooks: {
          after: { symlink: [`touch ${quote(started)} && sleep ${seconds} && touch ${quote(finished)}`] },
        },
      });
      const r = await interruptWhenExists(['-c', file, 'web'], started, signal);
      expect(r.sent, r.output).toBe(true);
      expect(r.code, r.output).toBe(code);
      expect(fs.existsSync(finished), 'the hook ran to its end').toBe(false);
      expect(psLines(`sleep ${seconds}`)).toEqual([]);
      expect(r.stderr).toContain(`EINTERRUPTED: interrupted by ${signal}`);
      expect(r.stderr).toContain('The new release was already live and stays live.');
      const newest = releasesOf(deployPath).at(-1)!;
      expect(current(deployPath)).toBe(`releases/${newest}`);
      expect(statusOf(deployPath).get(newest)).toBe('success');
      expect(releasesOf(deployPath)).toEqual([newest]);
      expect(lockFree(deployPath)).toBe(true);
    },
  );

  it('SIGINT between the rename over current and the end of the symlink stage: the release stays live, and the hint says so', async () => {
    const name = 'sigint-in-switch';
    const { deployPath, file: plain } = project(name);
    await deployOk(plain);
    const started = path.join(work, `${name}-started`);
    // The last moment of the switch, held open: `current` is already on the new release, as after
    // the switch's rename, when the signal lands and the stage has not ended.
    const file = reconfigure(plain, deployPath, {
      hooks: {
        before: {
          symlink: [
            `cd "$SHIPSHAPE_DEPLOY_PATH" && ln -sfn "releases/$SHIPSHAPE_RELEASE" current && touch ${quote(started)} && sleep 31.5`,
          ],
        },
      },
    });
    const r = await interruptWhenExists(['-c', file, 'web', '--json'], started, 'SIGINT');
    expect(r.sent, r.output).toBe(true);
    expect(r.code, r.output).toBe(130);
    const newest = releasesOf(deployPath).at(-1)!;
    expect(current(deployPath)).toBe(`releases/${newest}`);
    expect(statusOf(deployPath).get(newest)).toBe('success');
    expect(r.output).toContain(`current already pointed at ${newest} when the run stopped: it stays live`);
    // The host is what `deploy releases` says of it, and its own error agrees with the run's.
    const json = JSON.parse(r.stdout) as { hosts: { status: string; error?: { hint: string } }[] };
    expect(json.hosts[0]).toMatchObject({
      status: 'success',
      error: { hint: 'The new release was already live and stays live.' },
    });
    expect(r.stderr).toContain('The new release was already live and stays live.');
    expect(r.stderr).not.toContain('`current` was not touched');
    expect(lockFree(deployPath)).toBe(true);
  });

  it('SIGINT once a rolling batch went through stops the rollout there: exits 130, that batch stays live, the next is not started', async () => {
    const { base, one, two, configure } = twoHosts('rolling-stop');
    const [started, go] = [path.join(base, 'hook-started'), path.join(base, 'hook-go')];
    // The first batch's last step (not one an interrupt stops) waits for the test's signal.
    const wait = `touch ${quote(started)}; while [ ! -e ${quote(go)} ]; do sleep 0.1; done`;
    const file = configure({
      strategy: 'rolling',
      batch_size: 1,
      hooks: { after: { success: [{ run: wait, hosts: ['one'] }] } },
    });
    const r = await interruptWhenExists(['-c', file, 'production'], started, 'SIGINT', () =>
      fs.writeFileSync(go, ''),
    );
    expect(r.sent, r.output).toBe(true);
    expect(r.code, r.output).toBe(130);
    expect(r.stderr).toContain('EINTERRUPTED: interrupted by SIGINT');
    // one is live, two was not started: the hint says both.
    expect(r.stderr).toContain(
      'The new release was already live on one and stays live there; on two `current` was not touched and no new release is left.',
    );
    expect(r.output).toContain('rolling: interrupted before batch 2/2; not started: two');
    expect(r.output).not.toContain('was not left on the new release');
    const [release] = releasesOf(one);
    expect(current(one)).toBe(`releases/${release}`);
    expect(statusOf(one).get(release!)).toBe('success');
    expect(lockFree(one)).toBe(true);
    expect(releasesOf(two)).toEqual([]);
    expect(fs.existsSync(path.join(two, 'current'))).toBe(false);
  });

  it('SIGINT in a hook after the switch of a rolling batch: the batch stays live and is said to, the next is not started', async () => {
    const { base, one, two, configure } = twoHosts('rolling-after-switch');
    const [started, finished] = [path.join(base, 'hook-started'), path.join(base, 'hook-finished')];
    const file = configure({
      strategy: 'rolling',
      batch_size: 1,
      hooks: {
        after: { symlink: [`touch ${quote(started)} && sleep 35.5 && touch ${quote(finished)}`] },
      },
    });
    const r = await interruptWhenExists(['-c', file, 'production'], started, 'SIGINT');
    expect(r.sent, r.output).toBe(true);
    expect(r.code, r.output).toBe(130);
    expect(fs.existsSync(finished), 'the hook ran to its end').toBe(false);
    expect(r.stderr).toContain(
      'The new release was already live on one and stays live there; on two `current` was not touched and no new release is left.',
    );
    expect(r.output).toContain('rolling: interrupted in batch 1 (one)');
    expect(r.output).not.toContain('was not left on the new release');
    expect(r.output).toContain('rolling: not started: two');
    const [release] = releasesOf(one);
    expect(current(one)).toBe(`releases/${release}`);
    expect(statusOf(one).get(release!)).toBe('success');
    expect(lockFree(one)).toBe(true);
    expect(releasesOf(two)).toEqual([]);
  });

  it('SIGINT in a hook of one host, with parallel 1: the next host does not start its script, whose hook would have run to its end', async () => {
    const { base, one, two, configure } = twoHosts('parallel-one');
    const [started, ranTwo] = [path.join(base, 'hook-started'), path.join(base, 'hook-ran-on-two')];
    // One host at a time: one's hook waits for the signal; two's, started after it, would not be stopped.
    const hook = `if [ "$SHIPSHAPE_HOST" = one ]; then touch ${quote(started)}; sleep 31.5; else touch ${quote(ranTwo)}; fi`;
    const file = configure({
      parallel: 1,
      hooks: { after: { upload: [hook] } },
    });
    const r = await interruptWhenExists(['-c', file, 'production'], started, 'SIGINT');
    expect(r.sent, r.output).toBe(true);
    expect(r.code, r.output).toBe(130);
    expect(fs.existsSync(ranTwo), 'two ran its script after the signal').toBe(false);
    expect(r.stderr).toContain('`current` was not touched; the incomplete release was removed.');
    for (const host of [one, two]) {
      expect(releasesOf(host), host).toEqual([]);
      expect(fs.existsSync(path.join(host, 'current')), host).toBe(false);
      expect(lockFree(host), host).toBe(true);
    }
  });

  it('SIGINT with the new release live on one host and not on the other: the run says which is which', async () => {
    const { base, one, two, configure } = twoHosts('mixed-stop');
    const started = path.join(base, 'hook-started');
    // parallel 1: one switches and waits in its hook after the switch; two has not switched yet.
    const file = configure({
      parallel: 1,
      hooks: { after: { symlink: [{ run: `touch ${quote(started)} && sleep 31.5`, hosts: ['one'] }] } },
    });
    const r = await interruptWhenExists(['-c', file, 'production', '--json'], started, 'SIGINT');
    expect(r.sent, r.output).toBe(true);
    expect(r.code, r.output).toBe(130);
    const [release] = releasesOf(one);
    expect(current(one)).toBe(`releases/${release}`);
    expect(releasesOf(two)).toEqual([]);
    const mixed =
      'The new release was already live on one and stays live there; on two `current` was not touched and no new release is left.';
    expect(r.stderr).toContain(`hint: ${mixed}`);
    const json = JSON.parse(r.stdout) as {
      hosts: { host: string; status: string; error: { hint: string } }[];
    };
    expect(json.hosts.map((h) => [h.host, h.status, h.error.hint])).toEqual([
      ['one', 'success', 'The new release was already live and stays live.'],
      ['two', 'failed', '`current` was not touched; the incomplete release was removed.'],
    ]);
    for (const host of [one, two]) expect(lockFree(host), host).toBe(true);
  });

  it('SIGINT in a rolling batch before its switch, an earlier batch live, rollback_on_failure all: nothing is rolled back and the run says which host is live', async () => {
    const { base, one, two, configure } = twoHosts('rolling-mixed');
    const started = path.join(base, 'hook-started');
    const file = configure({
      strategy: 'rolling',
      batch_size: 1,
      rollback_on_failure: 'all',
      hooks: { before: { symlink: [{ run: `touch ${quote(started)} && sleep 31.5`, hosts: ['two'] }] } },
    });
    const r = await interruptWhenExists(['-c', file, 'production'], started, 'SIGINT');
    expect(r.sent, r.output).toBe(true);
    expect(r.code, r.output).toBe(130);
    expect(r.output).toContain('rolling: interrupted in batch 2 (two)');
    expect(r.output).toContain('rolling: one stay on the new release (earlier batches)');
    expect(r.output).not.toContain('rolling back');
    expect(r.stderr).toContain(
      'hint: The new release was already live on one and stays live there; on two `current` was not touched and no new release is left.',
    );
    const [release] = releasesOf(one);
    expect(current(one)).toBe(`releases/${release}`);
    expect(releasesOf(two)).toEqual([]);
    for (const host of [one, two]) expect(lockFree(host), host).toBe(true);
  });

  it('kill -9 mid-deploy leaves a stale lock: deploy exits 3 naming it, unlock says whose it was, deploy succeeds', async () => {
    const { deployPath, file: plain } = project('kill9');
    const file = reconfigure(plain, deployPath, {
      hooks: { after: { upload: ['test -f ../../fast || sleep 3'] } },
    });
    const killed = await interruptAt(['-c', file, 'web'], /> after:upload/, 'SIGKILL');
    expect(killed.code).toBe(null);
    expect(lockFree(deployPath)).toBe(false);
    fs.writeFileSync(path.join(deployPath, 'fast'), '');

    const status = await runCli(['-c', file, 'lock', 'status', 'web']);
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toMatch(/web: locked by \S+@\S+ \(pid \d+/);
    expect(status.stdout).toContain('stale');
    expect(status.stdout).toContain(`deploy -c ${file} unlock web`);

    const blocked = await runCli(['-c', file, 'web']);
    expect(blocked.code, blocked.output).toBe(3);
    expect(blocked.stderr).toMatch(/deploy lock held by \S+@\S+ \(pid \d+/);
    expect(blocked.stderr).toContain('stale lock');

    const unlocked = await runCli(['-c', file, 'unlock', 'web']);
    expect(unlocked.code, unlocked.output).toBe(0);
    expect(unlocked.stdout).toMatch(/web: removed the lock of \S+@\S+ \(pid \d+.*\(stale/);
    expect(lockFree(deployPath)).toBe(true);

    await deployOk(file);
    expect((await runCli(['-c', file, 'lock', 'status', 'web'])).stdout).toContain('web: not locked');
  });
});

/** Paths, types, modes, link targets, content hashes and mtimes of everything under root. */
function snapshotWithTimes(root: string): Record<string, string> {
  const out = snapshot(root);
  for (const rel of Object.keys(out)) {
    out[rel] += ` mtime ${fs.lstatSync(path.join(root, rel)).mtimeMs}`;
  }
  return out;
}

describe('dry run', () => {
  it('prints the plan per host and changes nothing on a host with a previous release', async () => {
    const { deployPath, file: plain } = project('dry-run');
    await deployOk(plain);
    const file = reconfigure(plain, deployPath, {
      hooks: { before: { symlink: ['php artisan migrate --force'] } },
    });
    const before = snapshotWithTimes(deployPath);
    const r = await runCli(['-c', file, '--dry-run', 'web']);
    expect(r.code, r.output).toBe(0);
    expect(snapshotWithTimes(deployPath)).toEqual(before);
    expect(r.stdout).toContain(`current: ${releasesOf(deployPath)[0]}`);
    // A plan a person reads: the stages in order with the hooks in place, no shell.
    expect(r.stdout).toMatch(
      / {2}prepare \(one script on the host\):\n +setup +Prepare the deploy path\n +lock /,
    );
    expect(r.stdout).toMatch(
      / {2}switch \(one script on the host\):\n +hook before symlink +php artisan migrate --force\n +symlink +Switch/,
    );
    expect(r.stdout).not.toContain('mv -T');
    expect(r.stdout).not.toContain('@@shipshape');
    // -vv adds what each step sends, still without our protocol's markers.
    const vv = await runCli(['-c', file, '--dry-run', '-vv', 'web']);
    expect(vv.code, vv.output).toBe(0);
    expect(vv.stdout).toMatch(/mv -T \S+ \S+\/current/);
    expect(vv.stdout).toContain("eval 'php artisan migrate --force'");
    expect(vv.stdout).not.toContain('@@shipshape');

    const json = await runCli(['-c', file, '--dry-run', '--json', 'web']);
    expect(json.code, json.output).toBe(0);
    const plan = JSON.parse(json.stdout) as { hosts: { phases: { phase: string }[] }[] };
    // As the run sends them: the link phase in the upload phase's script (nothing local between).
    expect(plan.hosts[0]!.phases.map((p) => p.phase)).toEqual(
      Object.keys(DEPLOY).filter((k) => k !== 'link'),
    );
    expect(plan.hosts[0]!.phases.find((p) => p.phase === 'upload')).toMatchObject({
      stages: expect.arrayContaining([
        expect.objectContaining({ id: 'upload' }),
        expect.objectContaining({ id: 'shared' }),
      ]),
    });
    expect(snapshotWithTimes(deployPath)).toEqual(before);
  });
});
