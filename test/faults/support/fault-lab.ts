import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect } from 'vitest';
import { auditShared, inventoryShared, type SharedInventory } from '../../support/shared-audit.js';
import {
  sshHost,
  tmpDir,
  writeConfig,
  writeTree,
  type CliOptions,
  type CliResult,
} from '../../support/project.js';
import { startSshd, type SshdServer } from '../../support/sshd.js';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';
import { runFastCli } from './fast-cli.js';

/** Commands the server-side pause can hold; every stage runs at least one of them. */
const WRAPPED = ['mkdir', 'mv', 'rm', 'grep', 'tar', 'ln', 'cp', 'find', 'rmdir', 'sed', 'chmod'];
const PAUSE_SECONDS = 2;

export interface Pause {
  /** A wrapped command name, e.g. `mv`. */
  command: string;
  /** Only calls whose arguments contain this text pause. */
  needle: string;
  /** Pause before the command runs (its effect not yet visible) or after (it has happened). */
  when: 'before' | 'after';
  /** Longest pause; `release()` ends it sooner. Default 2 s. */
  seconds?: number;
}

export interface FaultLab {
  server: SshdServer;
  proxy: TcpProxy;
  work: string;
  /** Arms a one-shot pause in the next matching server-side command. */
  pauseAt(p: Pause): void;
  /** Resolves when the armed command has started pausing. */
  paused(timeoutMs?: number): Promise<void>;
  /** Resolves when the paused command has finished (the remote script may outlive a cut). */
  pauseOver(timeoutMs?: number): Promise<void>;
  /** Ends a pause now. */
  release(): void;
  disarm(): void;
  stop(): Promise<void>;
}

/**
 * A real sshd whose sessions find our wrappers first in PATH: a wrapper runs the real command
 * unless a pause rule matches, so a test can hold the remote script inside one stage and cut the
 * connection there. This is a fault on the server, not a mock of SSH: the CLI speaks to OpenSSH
 * through a TCP relay that can drop every connection.
 */
async function startFaultLab(prefix: string): Promise<FaultLab> {
  const work = tmpDir(`shipshape-${prefix}-`);
  const flags = path.join(work, 'flags');
  const bin = path.join(work, 'bin');
  fs.mkdirSync(flags);
  const rule = path.join(flags, 'rule');
  const reached = path.join(flags, 'reached');
  const finished = path.join(flags, 'finished');
  const go = path.join(flags, 'go');
  const wrapper = [
    '#!/bin/sh',
    'name=${0##*/}',
    'real=/bin/$name; [ -x "$real" ] || real=/usr/bin/$name',
    `rule='${rule}'`,
    'match=',
    'if [ -f "$rule" ]; then',
    '  IFS=\'\t\' read -r r_cmd r_needle r_when r_seconds < "$rule"',
    '  if [ "$r_cmd" = "$name" ]; then case "$*" in *"$r_needle"*) match=1 ;; esac; fi',
    'fi',
    '[ -n "$match" ] || exec "$real" "$@"',
    '/bin/rm -f "$rule"',
    // Tenths of a second, until the test says go.
    `hold() { : > '${reached}'; n=$((r_seconds * 10)); while [ "$n" -gt 0 ] && [ ! -e '${go}' ]; do sleep 0.1; n=$((n - 1)); done; }`,
    'if [ "$r_when" = before ]; then hold; fi',
    '"$real" "$@"; rc=$?',
    'if [ "$r_when" = after ]; then hold; fi',
    `: > '${finished}'`,
    'exit $rc',
    '',
  ].join('\n');
  writeTree(bin, { 'pause-wrapper': { content: wrapper, mode: 0o755 } });
  for (const cmd of WRAPPED) fs.symlinkSync('pause-wrapper', path.join(bin, cmd));

  const server = await startSshd({ env: { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin` } });
  const proxy = await startTcpProxy(server.port, server.host);
  // The CLI checks host keys strictly; through the relay the key is the same, the port is not.
  fs.appendFileSync(server.knownHostsFile, `[${server.host}]:${proxy.port} ${server.hostPublicKey}\n`);
  const waitFor = async (file: string, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    while (!fs.existsSync(file)) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${path.basename(file)}`);
      await delay(20);
    }
  };
  return {
    server,
    proxy,
    work,
    pauseAt: ({ command, needle, when, seconds = PAUSE_SECONDS }) => {
      if (!WRAPPED.includes(command)) throw new Error(`${command} is not wrapped`);
      for (const f of [reached, finished, go]) fs.rmSync(f, { force: true });
      fs.writeFileSync(rule, `${command}\t${needle}\t${when}\t${seconds}\n`);
    },
    release: () => fs.writeFileSync(go, ''),
    paused: (t = 20_000) => waitFor(reached, t),
    // The remote script dies at its next write to the dropped channel; give it that moment.
    pauseOver: async (t = 20_000) => {
      await waitFor(finished, t);
      await delay(300);
    },
    disarm: () => fs.rmSync(rule, { force: true }),
    stop: async () => {
      await proxy.close();
      await server.stop();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

/** The test file's fault lab: started before its tests, stopped (its directory removed) after them. */
export function useFaultLab(prefix: string, ready: (lab: FaultLab) => void): void {
  let lab: FaultLab | undefined;
  beforeAll(async () => {
    lab = await startFaultLab(prefix);
    ready(lab);
  });
  afterAll(async () => lab?.stop());
}

export interface FaultProject {
  name: string;
  dir: string;
  source: string;
  deployPath: string;
  file: string;
  /** Runs the CLI against this project: `cli(['rollback', 'web'])`, `cli([])` for a deploy. */
  cli(args: string[], options?: CliOptions): Promise<CliResult>;
  /** How many times cli() has run so far: a scenario's row counts its runs with it. */
  runs(): number;
  /** Deploys `n` times, each of which must succeed: the state a scenario starts from. */
  deployed(n: number): Promise<void>;
}

/** Shared files a user put on the server before the first deploy; the audit watches them. */
export const USER_SHARED: Record<string, string> = {
  '.env': 'APP_KEY=base64:user-secret\n',
  'storage/app/uploads/avatar.png': 'png bytes that only exist on the server\n',
  'storage/logs/app.log': 'a log line written by the running app\n',
};

/**
 * A small app deployed to `lab`'s sshd through its proxy. The deploy path is seeded with the
 * user's shared files first, as the README tells users to do.
 */
export function faultProject(
  lab: FaultLab,
  name: string,
  options: { files?: Record<string, string>; config?: Record<string, unknown>; direct?: boolean } = {},
): FaultProject {
  const dir = path.join(lab.work, name);
  const source = path.join(dir, 'app');
  writeTree(source, {
    'index.php': `<?php echo "${name}";\n`,
    'config/app.php': '<?php return ["debug" => false];\n',
    'storage/logs/.keep': '',
    ...options.files,
  });
  const deployPath = path.join(dir, 'server');
  writeTree(path.join(deployPath, 'shared'), USER_SHARED);
  const host = sshHost(lab.server, deployPath, options.direct ? {} : { port: lab.proxy.port });
  const file = writeConfig(dir, {
    application: name,
    source: 'app',
    recipe: 'static',
    keep_releases: 3,
    shared_dirs: ['storage'],
    shared_files: ['.env'],
    hosts: { web: host },
    ...options.config,
  });
  let runs = 0;
  const project: FaultProject = {
    name,
    dir,
    source,
    deployPath,
    file,
    cli: (args, o) => {
      runs++;
      return runFastCli(['-c', file, ...(args.length ? args : ['web'])], o);
    },
    runs: () => runs,
    deployed: async (n) => {
      for (let i = 0; i < n; i++) {
        const r = await project.cli([]);
        expect(r.code, r.output).toBe(0);
      }
    },
  };
  return project;
}

/** Runs `scenario` and fails if any user file under shared/ was lost or changed by it. */
export async function withSharedAudit<T>(
  deployPath: string,
  scenario: () => Promise<T>,
  expectedChanges?: ReadonlySet<string>,
): Promise<{ value: T; audited: number }> {
  const before: SharedInventory = inventoryShared(deployPath);
  const value = await scenario();
  const problems = auditShared(before, inventoryShared(deployPath), expectedChanges);
  expect(problems, 'user files under shared/ were lost or changed').toEqual([]);
  return { value, audited: before.size };
}

export const currentOf = (deployPath: string): string | undefined => {
  try {
    return fs.readlinkSync(path.join(deployPath, 'current')).replace(/^releases\//, '');
  } catch {
    return undefined;
  }
};

export const lockHeld = (deployPath: string): boolean => fs.existsSync(path.join(deployPath, '.deploy/lock'));

/**
 * The recovery every fault must allow: the next deploy succeeds, or it fails ELOCKED naming the
 * stale holder and succeeds after `deploy unlock`. Returns the new release and whether unlock was needed.
 */
export async function recover(project: FaultProject): Promise<{ release: string; unlocked: boolean }> {
  let next = await project.cli([]);
  let unlocked = false;
  if (next.code === 3) {
    expect(next.stderr).toMatch(/ELOCKED: web: deploy lock held by \S+@\S+ \(pid \d+/);
    expect(next.stderr).toMatch(/`deploy (-c \S+ )?unlock web`/);
    const u = await project.cli(['unlock', 'web']);
    expect(u.code, u.output).toBe(0);
    unlocked = true;
    next = await project.cli([]);
  }
  expect(next.code, next.output).toBe(0);
  const release = currentOf(project.deployPath)!;
  expect(fs.existsSync(path.join(project.deployPath, 'releases', release, 'index.php'))).toBe(true);
  expect(lockHeld(project.deployPath)).toBe(false);
  return { release, unlocked };
}

/**
 * The host after a run: lock free, no half-made links or owner records, `current` on a complete
 * release the log calls a success, and every release directory known to the log.
 */
export function expectConsistent(deployPath: string): void {
  expect(lockHeld(deployPath), 'lock left behind').toBe(false);
  const leftovers = [
    ...fs.readdirSync(deployPath).filter((f) => f.startsWith('.current.')),
    ...fs.readdirSync(path.join(deployPath, '.deploy')).filter((f) => f.startsWith('lock-owner.')),
  ];
  expect(leftovers, 'temporary files left behind').toEqual([]);
  const lines = fs.readFileSync(path.join(deployPath, '.deploy/releases.jsonl'), 'utf8').split('\n');
  const history = new Map<string, string>();
  for (const line of lines.filter(Boolean)) {
    const e = JSON.parse(line) as { name: string; status: string };
    history.set(e.name, e.status);
  }
  const live = currentOf(deployPath);
  expect(live, '`current` is missing').toBeDefined();
  expect(history.get(live!), `current ${live} in the log`).toBe('success');
  expect(fs.existsSync(path.join(deployPath, 'releases', live!, 'index.php'))).toBe(true);
  for (const r of fs.readdirSync(path.join(deployPath, 'releases'))) {
    expect(history.has(r), `release ${r} unknown to the log`).toBe(true);
  }
}
