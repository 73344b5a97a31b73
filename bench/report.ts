import type { TreeStats } from './generate.js';
import type { LocalProfile } from './profile.js';
import { pairedRatio, ratioText, secs, type Ratio, type Sample, type summary } from './stats.js';

export type Row = { id: string; label: string } & ReturnType<typeof summary>;

export interface HostsRow {
  hosts: number;
  files: number;
  parallel: number;
  sshds: number;
  first: ReturnType<typeof summary>;
  changed: ReturnType<typeof summary>;
  connections: number;
}

export interface ReportInput {
  date: string;
  /** The server the run deployed to: OpenSSH's sshd, or the test harness's in-process ssh2 fallback. */
  server: 'openssh' | 'ssh2';
  cores: number;
  cpu: string;
  node: string;
  tree: TreeStats;
  seed: number;
  runs: number;
  rows: Row[];
  /** The same deploys through the delaying relay (latency mode), when it ran. */
  farRows?: Row[];
  rttMs?: number;
  /** The 1-minute load average at the start of each round. */
  load?: number[];
  rollback: boolean;
  profile: LocalProfile & {
    sshConnectMs?: number;
    remoteCpAlMs?: number;
    remoteMkdirMs?: number;
    releaseDirs?: number;
    cliStartMs?: number;
    cliStartRssMiB?: number;
    stages?: string[];
  };
  scale?: { tree: TreeStats; first: Sample; changed: Sample; far?: Sample };
  multi?: HostsRow[];
}

const SERVER: Record<ReportInput['server'], string> = {
  openssh: 'a private OpenSSH sshd',
  ssh2: "the test harness's in-process ssh2 server (OpenSSH's sshd was not installed; its timings are not OpenSSH's)",
};
const kb = (bytes?: number) =>
  bytes === undefined || Number.isNaN(bytes) ? '–' : `${(bytes / 1024).toFixed(1)} KiB`;

const mib = (kib?: number) => (kib === undefined ? '–' : `${(kib / 1024).toFixed(0)} MiB`);

const share = (part?: number, whole?: number) =>
  part === undefined || whole === undefined ? '–' : `${Math.round((part / whole) * 100)} %`;

/**
 * BENCHMARKS.md from one run's measurements. Every figure and every verdict comes from `r`; what
 * the page says about method (the server, the tree, the runs) is what the run did.
 */
export function renderReport(r: ReportInput): string {
  const by = Object.fromEntries(r.rows.map((row) => [row.id, row]));
  const m = (id: string) => by[id]?.median ?? NaN;
  const ratio = (a: string, b: string): Ratio => pairedRatio(by[a]?.samples ?? [], by[b]?.samples ?? []);
  /** A target's cells: the rounds' ratio as the page shows it, and the verdict on its median. */
  const within = (a: string, b: string, limit: number): [string, boolean] => {
    const r = ratio(a, b);
    return [ratioText(r), r.median <= limit];
  };
  const peak10k = Math.max(...r.rows.map((row) => row.peakRssMiB ?? 0));
  const peak40k = r.scale ? Math.max(r.scale.first.rssKiB!, r.scale.changed.rssKiB!) / 1024 : undefined;
  const maxExecs = (id: string) => Math.max(...(by[id]?.execs ?? [NaN]));
  const check = (ok: boolean) => (ok ? 'met' : '**missed**');
  const target = (label: string, a: string, b: string, limit: number) => {
    const [value, ok] = within(a, b, limit);
    return `| ${label} | ${value} | ${check(ok)} |`;
  };

  const targets: [string, string, boolean | undefined][] = [
    ['first deploy ≤ 1.2 × tar baseline', ...within('first', 'tar', 1.2)],
    ['10-changed ≤ 0.6 × rsync --link-dest', ...within('changed', 'rsync', 0.6)],
    ['… the same on a deploy path that never pruned a release (`cp -al`)', ...within('young', 'rsync', 0.6)],
    ['10-changed ≤ 0.3 × own first deploy', ...within('changed', 'first', 0.3)],
    ['no-change ≤ 10-changed', ...within('unchanged', 'changed', 1)],
    r.rollback
      ? ['rollback ≤ 0.1 × first deploy', ...within('rollback', 'first', 0.1)]
      : ['rollback ≤ 0.1 × first deploy', 'pending (`deploy rollback` not available yet)', undefined],
    [
      '≤ 6 exec requests per deploy',
      `${Math.max(maxExecs('first'), maxExecs('changed'), maxExecs('unchanged'))}`,
      Math.max(maxExecs('first'), maxExecs('changed'), maxExecs('unchanged')) <= 6,
    ],
    r.rollback
      ? ['≤ 2 exec requests per rollback', `${maxExecs('rollback')}`, maxExecs('rollback') <= 2]
      : ['≤ 2 exec requests per rollback', 'pending', undefined],
    ['peak RSS ≤ 150 MB at 10,000 files', `${peak10k.toFixed(0)} MiB`, peak10k * 1.048576 <= 150],
    peak40k === undefined
      ? ['peak RSS grows ≤ 30% at 40,000 files', 'not measured (--no-scale)', undefined]
      : [
          `peak RSS grows ≤ 30% at ${r.scale!.tree.files} files`,
          `${peak40k.toFixed(0)} MiB (+${((peak40k / peak10k - 1) * 100).toFixed(0)}%)`,
          peak40k / peak10k <= 1.3,
        ],
  ];

  const out: string[] = [];
  out.push('# Benchmarks', '');
  out.push(
    `Written by \`npm run bench\` on ${r.date}: ${r.cores} CPU cores (${r.cpu}), Node ${r.node}, ${SERVER[r.server]} on 127.0.0.1 (so no network cost and \`compression: none\`).`,
    `Tree: ${r.tree.files} files, ${r.tree.dirs} directories, ${r.tree.symlinks} symlinks, ${(r.tree.bytes / 1e6).toFixed(1)} MB (Laravel-like, seed ${r.seed}).`,
    `Each measurement ran ${r.runs} times, alternating: each round ran every row once. Times are wall clock of the whole command, including process start and the SSH connection. A ratio is taken round by round, between the two rows' runs of that round, and shown as the median of the rounds' ratios with their range; a verdict is on that median. shipshape runs the built CLI (\`dist/\`) with a warm local hash cache and its memory of the host (the listing and manifest it was last sent); the recipe is Laravel's (storage/ and .env shared, public/ shared entry by entry: the 5 MB images under public/images must not travel again when unchanged).`,
    r.load?.length
      ? `Load of the machine (1-minute load average at the start of each round, 2 cores shared with other engineers' test runs): ${r.load.map((l) => l.toFixed(2)).join(', ')}. Compare only within this run: this VM's file-creation speed drifts up to 10× within minutes.`
      : '',
    '',
  );
  out.push(
    '| what | median | min – max | ratio | exec requests | peak RSS |',
    '|---|---:|---:|---|---:|---:|',
  );
  const base: Record<string, string> = {
    first: 'tar',
    changed: 'rsync',
    young: 'rsync',
    unchanged: 'rsync',
    skipped: 'rsync',
    skippedAgain: 'rsync',
    rollback: 'first',
  };
  for (const row of r.rows) {
    const b = base[row.id];
    const rat = b ? `${ratioText(ratio(row.id, b))} × ${b === 'first' ? 'first deploy' : b}` : '';
    out.push(
      `| ${row.label} | ${secs(row.median)} s | ${secs(row.min)} – ${secs(row.max)} s | ${rat} | ${row.execs.length ? row.execs.join(', ') : '–'} | ${row.peakRssMiB === undefined ? '–' : `${row.peakRssMiB.toFixed(0)} MiB`} |`,
    );
  }
  out.push('', '## Targets (issue 6)', '', '| target | measured | |', '|---|---|---|');
  for (const [t, v, ok] of targets) out.push(`| ${t} | ${v} | ${ok === undefined ? 'pending' : check(ok)} |`);

  if (r.farRows?.length) {
    const far = Object.fromEntries(r.farRows.map((row) => [row.id, row]));
    const pairs: [string, string, string][] = [
      ['first deploy', 'first', 'farFirst'],
      ['deploy after 10 changed files', 'changed', 'farChanged'],
      ['deploy with no change', 'unchanged', 'farUnchanged'],
      ['deploy with no change, `--skip-unchanged`', 'skipped', 'farSkipped'],
      ['… once more (the record checked)', 'skippedAgain', 'farSkippedAgain'],
      ['rollback', 'rollback', 'farRollback'],
    ];
    out.push(
      '',
      `## At ${r.rttMs} ms round trip (issue 17)`,
      '',
      `The same deploys, in the same rounds, through a relay on 127.0.0.1 that holds every chunk ${(r.rttMs ?? 0) / 2} ms each way (no bandwidth limit; this kernel has no netem), each on a deploy path of its own with the same history; which of the pair ran first alternated by round. Round trips: exec requests counted by sshd, and turns counted by the relay (each time the server answered after the client had spoken: an upper bound of request/response waits). Bytes received and sent: what this machine read from and wrote to the relay for the whole command.`,
      '',
      '| what | loopback | min – max | at ' +
        r.rttMs +
        ' ms | min – max | × loopback | exec requests | turns | bytes received | bytes sent |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const [label, near, farId] of pairs) {
      const n = by[near];
      const f = far[farId];
      if (!n || !f) continue;
      out.push(
        `| ${label} | ${secs(n.median)} s | ${secs(n.min)} – ${secs(n.max)} s | ${secs(f.median)} s | ${secs(f.min)} – ${secs(f.max)} s | ${ratioText(pairedRatio(f.samples, n.samples))} | ${f.execs.join(', ')} | ${f.turns.join(', ')} | ${kb(f.downBytes)} | ${kb(f.upBytes)} |`,
      );
    }
    const changedRatio = pairedRatio(far.farChanged?.samples ?? [], by.changed?.samples ?? []);
    const bytes10k = far.farChanged?.downBytes ?? NaN;
    const bytesScale = r.scale?.far?.downBytes;
    out.push('', '| target (issue 17) | measured | |', '|---|---|---|');
    out.push(
      `| 10-changed at ${r.rttMs} ms ≤ 1.5 × its loopback time | ${ratioText(changedRatio)} | ${check(changedRatio.median <= 1.5)} |`,
      target('steady-state 10-changed ≤ 0.6 × rsync --link-dest', 'changed', 'rsync', 0.6),
      target('no-change ≤ 0.8 × 10-changed (a release made, its hooks run)', 'unchanged', 'changed', 0.8),
      ...(by.skipped
        ? [
            target(
              '… with `skip_unchanged`, the first run after a release (compared file by file)',
              'skipped',
              'changed',
              0.8,
            ),
            ...(by.skippedAgain
              ? [
                  target(
                    '… with `skip_unchanged`, the runs after it (the record checked)',
                    'skippedAgain',
                    'changed',
                    0.8,
                  ),
                ]
              : []),
          ]
        : []),
      bytesScale === undefined
        ? `| bytes received by a 10-changed deploy do not grow with the tree | ${kb(bytes10k)} at ${r.tree.files} files; not measured at more (--no-scale) | pending |`
        : `| bytes received by a 10-changed deploy do not grow with the tree | ${kb(bytes10k)} at ${r.tree.files} files, ${kb(bytesScale)} at ${r.scale!.tree.files} files | ${check(bytesScale <= bytes10k * 1.1 + 2048)} |`,
    );
  }

  const p = r.profile;
  out.push('', '## Where the time goes', '');
  out.push(
    `- SSH connection (system ssh, \`true\`): ${secs(p.sshConnectMs ?? NaN)} s`,
    `- \`cp -al\` of the whole release on the server: ${secs(p.remoteCpAlMs ?? NaN)} s — what an incremental deploy with no pruned release to reuse runs (a deploy that renames the spare into place runs none); creating only its ${p.releaseDirs} directories, with no file, took ${secs(p.remoteMkdirMs ?? NaN)} s (${share(p.remoteMkdirMs, p.remoteCpAlMs)} of it)`,
    `- CLI start (\`deploy --help\`, built CLI): ${secs(p.cliStartMs ?? NaN)} s, ${p.cliStartRssMiB?.toFixed(0) ?? '–'} MiB; a rollback is this plus loading config, SSH and the lifecycle modules, one connection and two exec requests`,
    `- local scan of the tree: ${secs(p.scanMs)} s; hashing every file with a cold cache: ${secs(p.hashMs)} s; producing the tar to /dev/null: ${secs(p.packMs)} s`,
  );
  const floorChanged = (p.cliStartMs ?? NaN) + (p.sshConnectMs ?? NaN) + (p.remoteCpAlMs ?? NaN);
  out.push(
    `- floor of a 10-changed deploy without a spare ≈ CLI start + SSH connection + \`cp -al\` = ${secs(floorChanged)} s, against 0.6 × rsync = ${secs(0.6 * m('rsync'))} s and 0.3 × first deploy = ${secs(0.3 * m('first'))} s`,
  );
  if (r.rollback)
    out.push(
      `- floor of a rollback ≈ CLI start + SSH connection = ${secs((p.cliStartMs ?? NaN) + (p.sshConnectMs ?? NaN))} s before its two exec requests, against 0.1 × first deploy = ${secs(0.1 * m('first'))} s`,
    );
  if (p.stages?.length)
    out.push(
      `- timeline of the last 10-changed deploy (from when its output lines arrived): ${p.stages.join('; ')}`,
    );

  if (r.scale) {
    out.push(
      '',
      `## Memory at ${r.scale.tree.files} files (${(r.scale.tree.bytes / 1e6).toFixed(0)} MB)`,
      '',
    );
    out.push(
      `- first deploy: ${secs(r.scale.first.ms)} s, peak RSS ${mib(r.scale.first.rssKiB)}`,
      `- deploy after 10 changed files: ${secs(r.scale.changed.ms)} s, peak RSS ${mib(r.scale.changed.rssKiB)}`,
      ...(r.scale.far
        ? [
            `- the same at ${r.rttMs} ms round trip (steady state: its second deploy there): ${secs(r.scale.far.ms)} s, ${kb(r.scale.far.downBytes)} received, ${kb(r.scale.far.upBytes)} sent, ${r.scale.far.turns} turns`,
          ]
        : []),
    );
  }
  out.push('', '## Many hosts (issue 7)', '');
  if (r.multi?.length) {
    const one = r.multi.find((x) => x.hosts === 1) ?? r.multi[0]!;
    const m = r.multi[0]!;
    out.push(
      `The same deploy to N hosts: deploy paths spread over ${Math.max(...r.multi.map((x) => x.sshds))} local sshd processes, a ${m.files}-file app (same generator), \`parallel\` = N (one connection per host for the whole run), ${m.first.runs} alternating runs: medians, and ratios to one host taken round by round (median and range). Every host's server side runs on this machine's one disk and ${r.cores} cores.`,
      '',
      '| hosts | first deploy | × 1 host | 10-changed | × 1 host | exec requests (all hosts) | connections | peak RSS |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const x of r.multi) {
      out.push(
        `| ${x.hosts} | ${secs(x.first.median)} s | ${ratioText(pairedRatio(x.first.samples, one.first.samples))} | ${secs(x.changed.median)} s | ${ratioText(pairedRatio(x.changed.samples, one.changed.samples))} | ${[...new Set([...x.first.execs, ...x.changed.execs])].join(', ')} | ${x.connections} | ${x.first.peakRssMiB === undefined ? '–' : `${Math.max(x.first.peakRssMiB, x.changed.peakRssMiB ?? 0).toFixed(0)} MiB`} |`,
      );
    }
    const most = r.multi.at(-1)!;
    const first = pairedRatio(most.first.samples, one.first.samples);
    const changed = pairedRatio(most.changed.samples, one.changed.samples);
    const verdict = (x: Ratio) => (x.median <= 4 ? 'met' : '**missed**');
    out.push(
      '',
      `Target (issue 7): ${most.hosts} hosts ≤ 4 × one host. 10-changed deploy: ${ratioText(changed)} × — ${verdict(changed)}. First deploy: ${ratioText(first)} × — ${verdict(first)}.`,
    );
  } else {
    out.push('Not measured in this run (`--no-hosts`).');
  }
  return `${out.join('\n')}\n`;
}
