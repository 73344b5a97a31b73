/**
 * `npm run bench`: how fast a deploy is compared with the physical limits of this machine.
 * One run, alternating every measurement, against a private OpenSSH sshd on 127.0.0.1:
 * baselines (tar over the system ssh; rsync --link-dest after 10 changed files) and shipshape
 * (first deploy, 10 changed files, no change, rollback). Writes BENCHMARKS.md.
 *
 *   npm run bench -- [--files 10000] [--seed 1] [--runs 5] [--scale-files 40000 | --no-scale]
 *                    [--hosts 1,5,20 [--hosts-files 1000] | --no-hosts]
 *                    [--fleet 50 [--fleet-files 1000] | --no-fleet] [--out BENCHMARKS.md]
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { startSshd, type SshdServer } from '../test/support/sshd.js';
import { startTcpProxy, type TcpProxy } from '../test/support/tcp-proxy.js';
import { changeFiles, generateApp, type TreeStats } from './generate.js';
import { profileLocal } from './profile.js';
import { median, secs, summary, type Sample } from './stats.js';
import { renderReport, type HostsRow, type Row } from './report.js';
import { measureFleet, renderFleet } from './fleet.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '5' },
    'scale-files': { type: 'string', default: '40000' },
    'no-scale': { type: 'boolean', default: false },
    hosts: { type: 'string', default: '1,5,20' },
    'no-hosts': { type: 'boolean', default: false },
    'hosts-files': { type: 'string', default: '1000' },
    fleet: { type: 'string', default: '50' },
    'no-fleet': { type: 'boolean', default: false },
    'fleet-files': { type: 'string', default: '1000' },
    out: { type: 'string', default: path.join(ROOT, 'BENCHMARKS.md') },
    /** Round trip of the latency mode: a delaying relay in front of the same sshd (0 turns it off). */
    'rtt-ms': { type: 'string', default: '40' },
  },
});
const FILES = Number(args.files);
const SEED = Number(args.seed);
const RUNS = Math.max(1, Number(args.runs));
const RTT_MS = Number(args['rtt-ms']);

function log(msg: string) {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** Runs a command; resolves with its duration, rejects with its output when it fails. */
function run(cmd: string, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ ms: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    // Each chunk is stamped with when it arrived (ms since spawn), so a run's output is also its timeline.
    const stamp = (c: Buffer) =>
      (out += `${String(c).replace(/^(?=.)/gm, () => `@${Math.round(performance.now() - t0)} `)}`);
    child.stdout.on('data', stamp);
    child.stderr.on('data', stamp);
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve({ ms, out });
      else reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}:\n${out.slice(-3000)}`));
    });
  });
}

const unstamped = (out: string) => out.replace(/^@\d+ /gm, '');

/** Dirty pages from the previous step would otherwise be written back during the next one. */
const settle = () => execFileSync('sync');

interface Bench {
  server: SshdServer;
  work: string;
  ssh: string[];
  target: string;
  /** The delaying relay of the latency mode, and a known_hosts file for its port. */
  far?: { proxy: TcpProxy; knownHosts: string };
}

function sshArgs(server: SshdServer): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    server.identityFile,
    '-p',
    String(server.port),
    '-o',
    `UserKnownHostsFile=${server.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
  ];
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function writeDeployConfig(
  b: Bench,
  name: string,
  source: string,
  deployPaths: string[],
  fleet: { servers?: SshdServer[]; parallel?: number; keep?: number; recipe?: string; far?: boolean } = {},
): string {
  const file = path.join(b.work, `${name}.yml`);
  const servers = fleet.servers ?? [b.server];
  const hosts = Object.fromEntries(
    deployPaths.map((p, i) => {
      const server = servers[i % servers.length]!;
      return [
        deployPaths.length === 1 ? 'web' : `web${i + 1}`,
        {
          hostname: server.host,
          port: fleet.far ? b.far!.proxy.port : server.port,
          user: server.user,
          identity_file: server.identityFile,
          known_hosts_file: fleet.far ? b.far!.knownHosts : server.knownHostsFile,
          deploy_path: p,
          stage: 'bench',
        },
      ];
    }),
  );
  fs.writeFileSync(
    file,
    stringify({
      application: 'bench',
      source: path.relative(b.work, source),
      keep_releases: fleet.keep ?? 3,
      // The tree is a Laravel app: storage/ and .env are shared, public/ is shared entry by entry
      // (public/images holds 20 MB a steady-state deploy must not send again). The many-hosts
      // runs keep the static recipe, so they stay comparable with issue 7's.
      recipe: fleet.recipe ?? 'laravel',
      ...(fleet.recipe === 'static' ? { shared_dirs: ['storage'] } : {}),
      ...(fleet.parallel ? { parallel: fleet.parallel } : {}),
      hosts,
    }),
  );
  return file;
}

const total = async (servers: SshdServer[], what: 'execRequests' | 'connections') =>
  (await Promise.all(servers.map((s) => s[what]()))).reduce((a, n) => a + n, 0);

async function shipshape(
  b: Bench,
  argv: string[],
  servers: SshdServer[] = [b.server],
): Promise<Sample & { out: string; connections: number }> {
  const rssFile = path.join(b.work, 'rss');
  const before = await total(servers, 'execRequests');
  const connectionsBefore = await total(servers, 'connections');
  const relayed = b.far && { ...b.far.proxy.bytes(), turns: b.far.proxy.turns() };
  const r = await run(process.execPath, [path.join(ROOT, 'bench/deploy-entry.mjs'), ...argv], {
    CI: 'true',
    FORCE_COLOR: '0',
    SHIPSHAPE_CACHE_DIR: path.join(b.work, 'hash-cache'),
    BENCH_RSS_FILE: rssFile,
  });
  const execs = (await total(servers, 'execRequests')) - before;
  const connections = (await total(servers, 'connections')) - connectionsBefore;
  const far = relayed && {
    downBytes: b.far!.proxy.bytes().down - relayed.down,
    upBytes: b.far!.proxy.bytes().up - relayed.up,
    turns: b.far!.proxy.turns() - relayed.turns,
  };
  return {
    ms: r.ms,
    execs,
    connections,
    rssKiB: Number(fs.readFileSync(rssFile, 'utf8')),
    out: r.out,
    ...far,
  };
}

/** The built CLI for the fleet run: its wall time, output and peak RSS. */
const fleetCli = (work: string) => async (argv: string[], env: NodeJS.ProcessEnv) => {
  const rssFile = path.join(work, 'rss-fleet');
  const r = await run(process.execPath, [path.join(ROOT, 'bench/deploy-entry.mjs'), ...argv], {
    ...env,
    SHIPSHAPE_CACHE_DIR: path.join(work, 'hash-cache'),
    BENCH_RSS_FILE: rssFile,
  });
  return { ...r, rssKiB: Number(fs.readFileSync(rssFile, 'utf8')) };
};

function hasRollback(): boolean {
  const help = execFileSync(process.execPath, [
    path.join(ROOT, 'bench/deploy-entry.mjs'),
    '--help',
  ]).toString();
  return /^\s+rollback\b/m.test(help);
}

async function main() {
  log(`building dist/ (the benchmark runs the bundle the bin runs, as npx deploy does)`);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-bench-'));
  const server = await startSshd();
  const b: Bench = { server, work, ssh: sshArgs(server), target: `${server.user}@${server.host}` };
  if (RTT_MS > 0) {
    const proxy = await startTcpProxy(server.port, server.host, { delayMs: RTT_MS / 2 });
    const knownHosts = path.join(work, 'known_hosts_far');
    fs.writeFileSync(knownHosts, `[${server.host}]:${proxy.port} ${server.hostPublicKey}\n`);
    b.far = { proxy, knownHosts };
  }
  try {
    const app = path.join(work, 'app');
    log(`generating ${FILES} files (seed ${SEED}) in ${app}`);
    const tree = generateApp({ root: app, seed: SEED, files: FILES });
    log(`${tree.files} files, ${(tree.bytes / 1e6).toFixed(1)} MB`);
    const rollback = hasRollback();
    const results = await measure(b, app, rollback);
    const profile = await profileAll(b, app, results.stageLines);
    const scale = args['no-scale'] ? undefined : await measureScale(b, Number(args['scale-files']));
    const multi = args['no-hosts']
      ? undefined
      : await measureHosts(b, args.hosts!.split(',').map(Number), Number(args['hosts-files']));
    const fleet = args['no-fleet']
      ? undefined
      : await measureFleet(work, Number(args.fleet), Number(args['fleet-files']), SEED, fleetCli(work), log);
    const report = `${renderReport({
      date: new Date().toISOString().slice(0, 10),
      server: server.kind,
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      tree,
      seed: SEED,
      runs: RUNS,
      rows: results.rows,
      farRows: results.farRows,
      rttMs: b.far ? RTT_MS : undefined,
      load: results.load,
      rollback,
      profile,
      scale,
      multi,
    })}${renderFleet(fleet)}`;
    fs.writeFileSync(args.out!, report);
    process.stdout.write(report);
    log(`wrote ${args.out}`);
  } finally {
    await b.far?.proxy.close();
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** A deploy path for the Laravel recipe: its required shared .env, as `deploy setup --put` would leave it. */
function laravelPath(dir: string): string {
  fs.mkdirSync(path.join(dir, 'shared'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'shared', '.env'), 'APP_ENV=production\n', { mode: 0o600 });
  return dir;
}

async function measure(b: Bench, app: string, withRollback: boolean) {
  const samples: Record<string, (Sample & { out?: string })[]> = {
    tar: [],
    rsync: [],
    first: [],
    changed: [],
    young: [],
    unchanged: [],
    skipped: [],
    skippedAgain: [],
    rollback: [],
    farFirst: [],
    farChanged: [],
    farUnchanged: [],
    farSkipped: [],
    farSkippedAgain: [],
    farRollback: [],
  };
  const load: number[] = [];
  const srv = path.join(b.work, 'srv');
  fs.mkdirSync(srv);
  const incConfig = writeDeployConfig(b, 'incremental', app, [laravelPath(path.join(srv, 'incremental'))]);
  // keep_releases above the run's deploy count: it never prunes, so it never has a spare to reuse.
  const youngConfig = writeDeployConfig(b, 'young', app, [laravelPath(path.join(srv, 'young'))], {
    keep: 100,
  });
  // The same deploys through the delaying relay, on a deploy path of their own with the same history.
  const farConfig =
    b.far && writeDeployConfig(b, 'far', app, [laravelPath(path.join(srv, 'far'))], { far: true });
  log('setup: shipshape deploys until one release was pruned, and the first rsync copy (not timed)');
  // A deploy path that has had keep_releases (3) deploys prunes one release per deploy from then on;
  // the timed runs start there, as every deploy of a long-lived app does.
  for (let i = 0; i < 5; i++) {
    if (i > 0) changeFiles(app, 1000 + i);
    await shipshape(b, ['-c', incConfig, 'web']);
    if (farConfig) await shipshape(b, ['-c', farConfig!, 'web']);
  }
  await shipshape(b, ['-c', youngConfig, 'web']);
  let rsyncPrev = path.join(srv, 'rsync-0');
  await run('rsync', ['-a', '-e', `ssh ${b.ssh.map(q).join(' ')}`, `${app}/`, `${b.target}:${rsyncPrev}/`]);
  let stageLines = '';

  const ifFar = <T>(f: T): T | undefined => (farConfig ? f : undefined);
  const timed = async (id: string, argv: string[]) => {
    settle();
    const s = await shipshape(b, argv);
    samples[id]!.push(s);
    return s;
  };
  /** The loopback and the far deploys of one change, one after the other, in turns (which goes first alternates). */
  const pair = async (round: number, near: () => Promise<unknown>, far?: () => Promise<unknown>) => {
    if (!far) return void (await near());
    if (round % 2) {
      await near();
      await far();
    } else {
      await far();
      await near();
    }
  };

  for (let round = 1; round <= RUNS; round++) {
    changeFiles(app, round);
    load.push(os.loadavg()[0]!);

    settle();
    const rsyncNext = path.join(srv, `rsync-${round}`);
    const r = await run('rsync', [
      '-a',
      '--delete',
      `--link-dest=${rsyncPrev}`,
      '-e',
      `ssh ${b.ssh.map(q).join(' ')}`,
      `${app}/`,
      `${b.target}:${rsyncNext}/`,
    ]);
    samples.rsync!.push({ ms: r.ms });
    fs.rmSync(rsyncPrev, { recursive: true, force: true });
    rsyncPrev = rsyncNext;

    await pair(
      round,
      async () => {
        const changed = await timed('changed', ['-c', incConfig, 'web']);
        if (round === RUNS) stageLines = changed.out;
      },
      ifFar(() => timed('farChanged', ['-c', farConfig!, 'web'])),
    );
    await pair(
      round,
      () => timed('unchanged', ['-c', incConfig, 'web']),
      ifFar(() => timed('farUnchanged', ['-c', farConfig!, 'web'])),
    );
    // The same source once more, with skip_unchanged: the host runs it already, so no release.
    // The first such run compares and records what it found; the next (a scheduled deploy's
    // second hour) finds the record.
    const skipped = async (id: string, config: string, how: RegExp) => {
      const s = await timed(id, ['-c', config, 'web', '--skip-unchanged']);
      if (!/ unchanged: release /.test(s.out)) throw new Error(`--skip-unchanged made a release:\n${s.out}`);
      if (!how.test(s.out)) throw new Error(`--skip-unchanged did not decide ${how.source}:\n${s.out}`);
    };
    const compared = /compared with its upload manifest/;
    const recorded = /as recorded when last compared/;
    await pair(
      round,
      () => skipped('skipped', incConfig, compared),
      ifFar(() => skipped('farSkipped', farConfig!, compared)),
    );
    await pair(
      round,
      () => skipped('skippedAgain', incConfig, recorded),
      ifFar(() => skipped('farSkippedAgain', farConfig!, recorded)),
    );
    if (withRollback) {
      await pair(
        round,
        () => timed('rollback', ['-c', incConfig, 'rollback', 'web']),
        ifFar(() => timed('farRollback', ['-c', farConfig!, 'rollback', 'web'])),
      );
    }

    // After the main path's runs, so its cp -al of a whole tree does not sit between them.
    await timed('young', ['-c', youngConfig, 'web']);

    const firstPath = (kind: string) => laravelPath(path.join(srv, `${kind}-${round}`));
    await pair(
      round,
      async () => {
        const dir = firstPath('first');
        await timed('first', ['-c', writeDeployConfig(b, `first-${round}`, app, [dir]), 'web']);
        fs.rmSync(dir, { recursive: true, force: true });
      },
      ifFar(async () => {
        const dir = firstPath('far-first');
        await timed('farFirst', [
          '-c',
          writeDeployConfig(b, `far-first-${round}`, app, [dir], { far: true }),
          'web',
        ]);
        fs.rmSync(dir, { recursive: true, force: true });
      }),
    );

    settle();
    const tarDir = path.join(srv, `tar-${round}`);
    const t = await run('sh', [
      '-c',
      `tar -cf - -C ${q(app)} . | ssh ${b.ssh.map(q).join(' ')} ${q(b.target)} ${q(`mkdir -p ${q(tarDir)} && tar -xf - -C ${q(tarDir)}`)}`,
    ]);
    samples.tar!.push({ ms: t.ms });
    fs.rmSync(tarDir, { recursive: true, force: true });

    const last = (id: string) => (samples[id]!.length ? secs(samples[id]!.at(-1)!.ms) : '–');
    log(
      `round ${round}/${RUNS} (load ${load.at(-1)!.toFixed(2)}): tar ${secs(t.ms)}s rsync ${secs(r.ms)}s first ${last('first')}s ` +
        `10-changed ${last('changed')}s no-change ${last('unchanged')}s skipped ${last('skipped')}s, again ${last('skippedAgain')}s rollback ${last('rollback')}s` +
        (farConfig
          ? ` | at ${RTT_MS} ms: first ${last('farFirst')}s 10-changed ${last('farChanged')}s no-change ${last('farUnchanged')}s rollback ${last('farRollback')}s`
          : ''),
    );
  }

  const row = (id: string, label: string): Row => ({ id, label, ...summary(samples[id]!) });
  const rows: Row[] = [
    row('tar', 'baseline: `tar -cf - | ssh tar -xf -` into an empty dir'),
    row('rsync', 'baseline: `rsync -a --link-dest` after 10 changed files'),
    row('first', 'shipshape: first deploy'),
    row('changed', `shipshape: deploy after 10 changed files (${reused(samples.changed!)})`),
    row(
      'young',
      `shipshape: the same, on a deploy path that never pruned a release (${reused(samples.young!)})`,
    ),
    row('unchanged', `shipshape: deploy with no change (${reused(samples.unchanged!)})`),
    row(
      'skipped',
      'shipshape: deploy with no change, `--skip-unchanged` (no release made, no hook run; compared file by file)',
    ),
    row('skippedAgain', 'shipshape: the same once more (the record the run before left is checked)'),
  ];
  if (withRollback) rows.push(row('rollback', 'shipshape: rollback'));
  const farRows: Row[] = farConfig
    ? [
        row('farFirst', `first deploy at ${RTT_MS} ms round trip`),
        row('farChanged', `deploy after 10 changed files at ${RTT_MS} ms`),
        row('farUnchanged', `deploy with no change at ${RTT_MS} ms`),
        row('farSkipped', `deploy with no change, --skip-unchanged, at ${RTT_MS} ms`),
        row('farSkippedAgain', `the same once more at ${RTT_MS} ms`),
        ...(withRollback ? [row('farRollback', `rollback at ${RTT_MS} ms`)] : []),
      ]
    : [];
  return { rows, farRows, stageLines, load };
}

/**
 * Where a deploy's wall time went, from the arrival times of its output lines: start-up (Node,
 * modules, config) until the first line, then each stretch between two lines the deploy prints.
 */
function timeline(out: string): string[] {
  const at = (re: RegExp) => Number(new RegExp(`^@(\\d+) .*${re.source}`, 'm').exec(out)?.[1] ?? NaN);
  const marks: [string, number][] = [
    ['start-up and config', at(/deploying to/)],
    ['connect, lock (source scanned meanwhile)', at(/> probe:/)],
    ['probe (listings of the live release and the spare)', at(/ok probe/)],
    ['planning the upload (decode, compare, hash cache)', at(/incremental upload from|full upload/)],
    ['upload script', at(/ok upload/)],
    ['shared, writable, hooks', at(/> symlink:/)],
    ['switch', at(/ok symlink/)],
    ['cleanup', at(/ok cleanup/)],
    ['unlock, summary, exit', Math.max(...[...out.matchAll(/^@(\d+) /gm)].map((m) => Number(m[1])))],
  ];
  let prev = 0;
  return marks.map(([what, t]) => {
    const line = `${what} ${Math.round(t - prev)} ms`;
    prev = t;
    return line;
  });
}

/** How each incremental run built its release, from the upload notice it printed. */
function reused(samples: (Sample & { out?: string })[]): string {
  const spare = samples.filter((s) => s.out?.includes('in the directories of a pruned release')).length;
  return spare === samples.length
    ? 'every run renamed a pruned release into place'
    : spare === 0
      ? 'every run: `cp -al` of the live release'
      : `${spare} of ${samples.length} runs renamed a pruned release into place, the others \`cp -al\``;
}

async function profileAll(b: Bench, app: string, stageLines: string) {
  log('profiling: ssh connection, remote cp -al, local scan/hash/pack');
  const connect: number[] = [];
  for (let i = 0; i < 5; i++) connect.push((await run('ssh', [...b.ssh, b.target, 'true'])).ms);
  const release = path.join(b.work, 'srv/incremental/current/');
  const copy = path.join(b.work, 'srv/cp-al-probe');
  /** Runs a server-side command over the system ssh and returns what it took there, in ms. */
  const remoteMs = async (cmd: string) => {
    settle();
    const r = await run('ssh', [
      ...b.ssh,
      b.target,
      `t0=$(date +%s%N) && ${cmd} && t1=$(date +%s%N) && echo $(( (t1 - t0) / 1000000 ))`,
    ]);
    fs.rmSync(copy, { recursive: true, force: true });
    return Number(unstamped(r.out).trim().split('\n').at(-1));
  };
  const cpAl: number[] = [];
  const mkdirs: number[] = [];
  for (let i = 0; i < 3; i++) {
    cpAl.push(await remoteMs(`cp -al ${q(release)}. ${q(copy)}`));
    // The same directories without a single file: what `cp -al` costs before its first link.
    mkdirs.push(
      await remoteMs(
        `mkdir ${q(copy)} && (cd ${q(release)} && find . -mindepth 1 -type d -print0) | (cd ${q(copy)} && xargs -0 mkdir -p)`,
      ),
    );
  }
  const dirs = Number(
    unstamped((await run('sh', ['-c', `find ${q(release)} -type d | wc -l`])).out).trim() || NaN,
  );
  const help: Sample[] = [];
  for (let i = 0; i < 3; i++) help.push(await shipshape(b, ['--help']));
  const local = await profileLocal(app);
  const stages = timeline(stageLines);
  return {
    ...local,
    sshConnectMs: summary(connect.map((ms) => ({ ms }))).median,
    remoteCpAlMs: median(cpAl),
    remoteMkdirMs: median(mkdirs),
    releaseDirs: dirs,
    cliStartMs: summary(help).median,
    cliStartRssMiB: summary(help).peakRssMiB,
    stages,
  };
}

/** Peak RSS with 4× the files: the manifest and the scan grow with the file count, the archive must not. */
async function measureScale(b: Bench, files: number) {
  const app = path.join(b.work, `app-${files}`);
  log(`scale: generating ${files} files`);
  const tree = generateApp({ root: app, seed: SEED, files });
  const dp = laravelPath(path.join(b.work, 'srv/scale'));
  const cfg = writeDeployConfig(b, 'scale', app, [dp]);
  settle();
  const first = await shipshape(b, ['-c', cfg, 'web']);
  changeFiles(app, 1);
  settle();
  const changed = await shipshape(b, ['-c', cfg, 'web']);
  let far: Sample | undefined;
  if (b.far) {
    // Through the relay: the first deploy there gets the listing whole and keeps it; the second is steady state.
    const farCfg = writeDeployConfig(b, 'scale-far', app, [dp], { far: true });
    changeFiles(app, 2);
    await shipshape(b, ['-c', farCfg, 'web']);
    changeFiles(app, 3);
    settle();
    far = await shipshape(b, ['-c', farCfg, 'web']);
  }
  fs.rmSync(dp, { recursive: true, force: true });
  fs.rmSync(app, { recursive: true, force: true });
  log(
    `scale: first ${secs(first.ms)}s ${(first.rssKiB! / 1024).toFixed(0)} MiB, 10-changed ${secs(changed.ms)}s ${(changed.rssKiB! / 1024).toFixed(0)} MiB`,
  );
  return { tree: tree as TreeStats, first, changed, far };
}

/** sshd processes the many-hosts run spreads its hosts over (each keeps below sshd's MaxStartups of 10). */
const FLEET_SSHDS = 4;

/**
 * Issue 7's benchmark: the same deploy to 1, 5 and 20 hosts, alternating, RUNS times each.
 * The hosts are deploy paths behind a few local sshd processes, so every host's server work
 * (creating files, `cp -al`) lands on this machine's one disk and two cores: the run shows
 * what the fan-out costs (connections, parallel phases, round trips), on a smaller app
 * (--hosts-files) so that server work does not drown it. `parallel` is the host count: one
 * connection per host for the whole run, as issue 7 asks, with no reconnects by the pool.
 */
async function measureHosts(b: Bench, counts: number[], files: number): Promise<HostsRow[]> {
  const app = path.join(b.work, 'app-hosts');
  log(`hosts: generating ${files} files; starting ${FLEET_SSHDS - 1} more sshd processes`);
  generateApp({ root: app, seed: SEED, files, assets: 1 });
  const extra = await Promise.all(Array.from({ length: FLEET_SSHDS - 1 }, () => startSshd()));
  const servers = [b.server, ...extra];
  const samples = new Map(
    counts.map((n) => [n, { first: [] as Sample[], changed: [] as Sample[], conns: 0 }]),
  );
  try {
    const rounds = Math.min(RUNS, 3);
    for (let round = 1; round <= rounds; round++) {
      for (const n of counts) {
        const dir = path.join(b.work, `srv/multi-${n}`);
        const paths = Array.from({ length: n }, (_, i) => path.join(dir, `h${i + 1}`));
        const cfg = writeDeployConfig(b, `multi-${n}`, app, paths, {
          servers,
          parallel: n,
          recipe: 'static',
        });
        const s = samples.get(n)!;
        settle();
        const first = await shipshape(b, ['-c', cfg, 'bench'], servers);
        changeFiles(app, 100 * round + n);
        settle();
        const changed = await shipshape(b, ['-c', cfg, 'bench'], servers);
        s.first.push(first);
        s.changed.push(changed);
        s.conns = Math.max(s.conns, first.connections, changed.connections);
        fs.rmSync(dir, { recursive: true, force: true });
        log(
          `hosts ${n} (round ${round}/${rounds}): first ${secs(first.ms)}s, 10-changed ${secs(changed.ms)}s`,
        );
      }
    }
  } finally {
    await Promise.all(extra.map((s) => s.stop()));
    fs.rmSync(app, { recursive: true, force: true });
  }
  return counts.map((n) => {
    const s = samples.get(n)!;
    return {
      hosts: n,
      files,
      parallel: n,
      sshds: Math.min(n, servers.length),
      first: summary(s.first),
      changed: summary(s.changed),
      connections: s.conns,
    };
  });
}

await main();
