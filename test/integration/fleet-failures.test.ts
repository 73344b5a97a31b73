import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { DeployError } from '../../src/definitions/errors.js';
import { deploy, type DeployOptions } from '../../src/engine/deploy.js';
import { MemoryReporter, type HostOutcome, type Reporter } from '../../src/engine/reporter.js';
import { rollback } from '../../src/engine/rollback.js';
import { rollout } from '../../src/engine/rollout.js';
import { LocalTransport } from '../../src/remote/local.js';
import type { ExecRequest, ExecResult, Transport } from '../../src/remote/transport.js';
import { tmpDir, writeTree } from '../support/project.js';
import { rewrittenScript } from '../support/shell-text.js';

/** Records begin and end too, so a test can tell whether a run closed its display. */
class RecordingReporter implements Reporter {
  begins = 0;
  ends: (readonly HostOutcome[])[] = [];
  begin(): void {
    this.begins++;
  }
  stage(): void {}
  log(): void {}
  async end(outcomes: readonly HostOutcome[]): Promise<void> {
    this.ends.push(outcomes);
  }
}

/**
 * A local transport that lets a test break one exec: `fault(n, script)` is asked before the
 * n-th exec (1-based) of the host and may answer instead of running it, or rewrite the script.
 */
type Fault = (n: number, script: string) => ExecResult | Error | string | undefined;
function faulty(fault: Fault): Transport {
  const local = new LocalTransport();
  let n = 0;
  return {
    kind: 'local',
    exec: async (req: ExecRequest) => {
      const answer = fault(++n, req.script.text);
      if (answer instanceof Error) throw answer;
      if (typeof answer === 'string') return local.exec({ ...req, script: rewrittenScript(answer) });
      if (answer) return answer;
      return local.exec(req);
    },
    close: async () => {},
  };
}

let root: string;
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function project(aliases: string[], extra: Record<string, unknown> = {}) {
  root = tmpDir('shipshape-fleet-it-');
  writeTree(path.join(root, 'app'), { 'index.html': 'v1\n' });
  const deployPath = (a: string) => path.join(root, 'servers', a);
  const hosts = Object.fromEntries(
    aliases.map((a) => [a, { local: true, deploy_path: deployPath(a), stage: 'prod' }]),
  );
  const load = (more: Record<string, unknown> = {}) =>
    parseConfig(
      stringify({ application: 'fleet', source: 'app', hosts, ...extra, ...more }),
      path.join(root, 'deploy.yml'),
      {},
    );
  const current = (a: string) => {
    const link = path.join(deployPath(a), 'current');
    return fs.existsSync(link) ? fs.readlinkSync(link) : undefined;
  };
  const locked = (a: string) => fs.existsSync(path.join(deployPath(a), '.deploy', 'lock'));
  const log = (a: string) =>
    fs
      .readFileSync(path.join(deployPath(a), '.deploy', 'releases.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; status: string });
  let clock = Date.UTC(2030, 0, 1);
  const now = () => new Date((clock += 1000));
  /** A deploy of every host, with a clock that moves one second per release name. */
  const run = (over: Partial<DeployOptions> = {}) =>
    deploy({ loaded: load(), selector: 'prod', reporter: new MemoryReporter(), now, ...over });
  return { load, current, locked, log, now, deployPath, deploy: run };
}

const failOnB = { hooks: { before: { symlink: [{ run: 'exit 3', hosts: ['b'] }] } } };

describe('a deploy that fails after some hosts switched', () => {
  it('a first-deploy host that switched is unlinked again and unlocked, and not reported a success', async () => {
    const p = project(['a', 'b'], failOnB);
    // b's before-symlink hook fails; a's switch script does not wait for b, so a switches.
    const r = await p.deploy();
    expect(r.exitCode).toBe(4);
    const a = r.outcomes.find((o) => o.host === 'a')!;
    expect(a.status).toBe('failed');
    expect(a.error?.code).toBe('ESWITCHEDBACK');
    expect(p.current('a')).toBeUndefined();
    expect(p.locked('a')).toBe(false);
    expect(p.locked('b')).toBe(false);
    expect(p.log('a').at(-1)).toMatchObject({ name: r.release, status: 'failed' });
  });

  it('a switch back whose script fails is reported as such, and the lock still goes', async () => {
    const p = project(['a', 'b']);
    const first = await p.deploy();
    expect(first.exitCode).toBe(0);
    // a: prepare, upload (and link, in its script), switch, then the switch back (4th exec) fails on the server.
    const connect = async (alias: string) =>
      alias === 'a'
        ? faulty((n) => (n === 4 ? { code: 1, stdout: '', stderr: 'mv: simulated failure\n' } : undefined))
        : new LocalTransport();
    const reporter = new MemoryReporter();
    const r = await p.deploy({ loaded: p.load(failOnB), reporter, connect });
    const a = r.outcomes.find((o) => o.host === 'a')!;
    expect(a.error?.code).toBe('EREVERT');
    expect(a.error?.message).toContain(`still points at ${r.release}`);
    expect(p.current('a')).toBe(`releases/${r.release}`);
    expect(reporter.events.some((e) => e.startsWith('warn [a] switched back'))).toBe(false);
    expect(p.locked('a')).toBe(false);
    expect(p.current('b')).toBe(`releases/${first.release}`);
  });

  it('a failed health check whose switch back fails on one host leaves that host reported live', async () => {
    const p = project(['a', 'b']);
    const first = await p.deploy();
    expect(first.exitCode).toBe(0);
    const cfg = p.load();
    cfg.config.hosts.b!.healthcheck = {
      command: 'exit 1',
      expect_status: 200,
      timeout: 5,
      retries: 0,
      interval: 0,
    };
    // a: prepare, upload (and link), switch, then the switch back (4th exec) fails.
    const connect = async (alias: string) =>
      alias === 'a'
        ? faulty((n) => (n === 4 ? { code: 1, stdout: '', stderr: 'mv: simulated failure\n' } : undefined))
        : new LocalTransport();
    const r = await p.deploy({ loaded: cfg, connect });
    const [a, b] = ['a', 'b'].map((h) => r.outcomes.find((o) => o.host === h)!);
    expect(b!.error?.code).toBe('EHEALTH');
    expect(p.current('b')).toBe(`releases/${first.release}`);
    expect(a!.error?.code).toBe('EREVERT');
    expect(p.current('a')).toBe(`releases/${r.release}`);
    // Not "rolled back" (4): a is still on the new release, and the run's error says so.
    expect(r.exitCode).toBe(1);
    expect(r.error?.code).toBe('EREVERT');
    expect(p.locked('a')).toBe(false);
  });

  it('a host switched back because another failed: what was written into its new release while live is rescued and reported', async () => {
    const p = project(['a', 'b']);
    const first = await p.deploy();
    expect(first.exitCode).toBe(0);
    // On a, live on the new release, something writes into it (as the app would) before b's failure sends it back.
    const writeOnA = { run: `printf 'order 4711\\n' > "$SHIPSHAPE_RELEASE_PATH/order.csv"`, hosts: ['a'] };
    const reporter = new MemoryReporter();
    const r = await p.deploy({
      loaded: p.load({ hooks: { before: failOnB.hooks.before, after: { symlink: [writeOnA] } } }),
      reporter,
    });
    expect(r.exitCode).toBe(4);
    expect(r.outcomes.find((o) => o.host === 'a')!.error?.code).toBe('ESWITCHEDBACK');
    expect(p.current('a')).toBe(`releases/${first.release}`);
    expect(fs.existsSync(path.join(p.deployPath('a'), 'releases', r.release!))).toBe(false);
    const rescued = path.join(p.deployPath('a'), 'shared/.rescued', r.release!, 'order.csv');
    expect(fs.readFileSync(rescued, 'utf8')).toBe('order 4711\n');
    expect(
      reporter.events.some(
        (e) =>
          e.startsWith(`warn [a] release ${r.release}: the app wrote 1 file(s)`) &&
          e.includes(`${p.deployPath('a')}/shared/.rescued/${r.release}/`),
      ),
      reporter.events.join('\n'),
    ).toBe(true);
  });

  it('the release log line failing after the rename counts as after the switch: the host goes back', async () => {
    const p = project(['a']);
    const first = await p.deploy();
    expect(first.exitCode).toBe(0);
    const logFile = path.join(p.deployPath('a'), '.deploy', 'releases.jsonl');
    // Only in the switch script (the 3rd: prepare, upload and link, switch and finish): its appends to the
    // release log go to a path that cannot exist.
    const connect = async () =>
      faulty((n, script) =>
        n === 3 ? script.split(`>> ${logFile}`).join('>> /nonexistent/dir/log') : undefined,
      );
    const r = await p.deploy({ connect });
    expect(r.error?.code).toBe('EAFTERSWITCH');
    expect(r.exitCode).toBe(4);
    expect(p.current('a')).toBe(`releases/${first.release}`);
    expect(p.locked('a')).toBe(false);
  });
});

describe("one host: the finish phase in the switch phase's script", () => {
  it('a cleanup that fails there is a warning: the release stays live, the lock goes, the deploy succeeds', async () => {
    const p = project(['a']);
    const first = await p.deploy();
    expect(first.exitCode).toBe(0);
    // The 3rd script (prepare, upload and link, switch and finish) fails as cleanup begins.
    let scripts = 0;
    const connect = async () =>
      faulty((n, script) => {
        scripts = n;
        return n === 3
          ? script.replace('__ss_stage=cleanup __ss_step=0;', '__ss_stage=cleanup __ss_step=0; false;')
          : undefined;
      });
    const reporter = new MemoryReporter();
    const r = await p.deploy({ reporter, connect });
    expect(r.exitCode).toBe(0);
    expect(reporter.events.some((e) => e.startsWith('warn [a] cleanup failed'))).toBe(true);
    expect(p.current('a')).toBe(`releases/${r.release}`);
    expect(p.log('a').at(-1)).toMatchObject({ name: r.release, status: 'success' });
    // The unlock that follows a failed cleanup, on its own: the 4th script.
    expect(scripts).toBe(4);
    expect(p.locked('a')).toBe(false);
  });
});

describe('errors before any host is touched', () => {
  it('a failing local build still ends the display and returns exit 1', async () => {
    const p = project(['a'], { hooks: { before: { upload: [{ run: 'exit 7', local: true }] } } });
    const reporter = new RecordingReporter();
    const r = await p.deploy({ reporter });
    expect(r.exitCode).toBe(1);
    expect(reporter.ends).toHaveLength(1);
    expect(reporter.ends[0]![0]).toMatchObject({ host: 'a', status: 'failed' });
    expect(fs.existsSync(p.deployPath('a'))).toBe(false);
  });
});

describe('--no-atomic and rolling', () => {
  it('build once, read the source once, one display, `once` hooks on one host', async () => {
    const p = project(['a', 'b', 'c'], {
      hooks: {
        before: { upload: [{ run: 'echo built >> ../builds.log', local: true }] },
        after: { symlink: [{ run: 'echo migrated > ../../migrated', once: true }] },
      },
    });
    const reporter = new RecordingReporter();
    const r = await rollout({ loaded: p.load(), selector: 'prod', reporter, now: p.now, atomic: false });
    expect(r.exitCode, r.error?.message).toBe(0);
    expect(fs.readFileSync(path.join(root, 'builds.log'), 'utf8')).toBe('built\n');
    expect(reporter.begins).toBe(1);
    expect(reporter.ends).toHaveLength(1);
    expect(reporter.ends[0]!.map((o) => o.status)).toEqual(['success', 'success', 'success']);
    const migrated = ['a', 'b', 'c'].filter((a) => fs.existsSync(path.join(p.deployPath(a), 'migrated')));
    expect(migrated).toEqual(['a']);
  });
});

describe('rollback', () => {
  it('releases the lock when the lock-and-read script is cut off after taking it', async () => {
    const p = project(['a']);
    for (let i = 0; i < 2; i++) expect((await p.deploy()).exitCode).toBe(0);
    const local = new LocalTransport();
    let n = 0;
    const connect = async (): Promise<Transport> => ({
      kind: 'local',
      exec: async (req) => {
        const out = await local.exec(req);
        if (++n === 1) throw new DeployError('ECONNLOST', { host: 'a', stage: 'probe' });
        return out;
      },
      close: async () => {},
    });
    const r = await rollback({ loaded: p.load(), selector: 'prod', reporter: new MemoryReporter(), connect });
    expect(r.exitCode).toBe(5);
    expect(p.locked('a')).toBe(false);
  });
});
