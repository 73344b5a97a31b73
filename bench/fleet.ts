/**
 * Issue 18's benchmark: a fleet of N hosts (deploy paths spread over several local sshds, each
 * behind a TCP relay that counts the bytes the deploying machine sends), an artifact in a real
 * S3-compatible store (the suite's s3rver harness), push against pull: the first deploy and the
 * deploy after 10 changed files. Bytes sent = SSH bytes through the relays + every request the
 * deploying machine made to the store (headers and bodies, from the store's log); the build's own
 * upload to the store is reported apart, since it happens once whatever the number of hosts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { startS3Server, type S3Request, type S3Server } from '../test/support/s3-server.js';
import { startSshd, type SshdServer } from '../test/support/sshd.js';
import { startTcpProxy, type TcpProxy } from '../test/support/tcp-proxy.js';
import { changeFiles, generateApp } from './generate.js';
import { secs } from './stats.js';

interface FleetSample {
  ms: number;
  /** Bytes the deploying machine sent: SSH (through the relays) and to the store. */
  ssh: number;
  store: number;
  /** Objects the hosts fetched from the store themselves. */
  hostGets: number;
  connections: number;
  rssKiB: number;
}

export interface FleetResult {
  hosts: number;
  files: number;
  sshds: number;
  artifactBytes: number;
  buildStoreBytes: number;
  changedBuildStoreBytes: number;
  push: { first: FleetSample; changed: FleetSample };
  pull: { first: FleetSample; changed: FleetSample };
}

/** Hosts per sshd stay below sshd's MaxStartups of 10 with every host connecting at once. */
const HOSTS_PER_SSHD = 8;

export type RunCli = (
  argv: string[],
  env: NodeJS.ProcessEnv,
) => Promise<{ ms: number; out: string; rssKiB: number }>;

const sentToStore = (rows: readonly S3Request[]) =>
  rows.filter((q) => !q.presigned).reduce((n, q) => n + q.headerBytes + q.bytesIn, 0);

export async function measureFleet(
  work: string,
  hosts: number,
  files: number,
  seed: number,
  cli: RunCli,
  log: (m: string) => void,
): Promise<FleetResult> {
  const app = path.join(work, 'app-fleet');
  generateApp({ root: app, seed, files, assets: 1 });
  const sshdCount = Math.ceil(hosts / HOSTS_PER_SSHD);
  log(`fleet: ${hosts} hosts over ${sshdCount} sshd processes, ${files} files, an s3rver store`);
  const s3: S3Server = await startS3Server();
  const servers: SshdServer[] = await Promise.all(Array.from({ length: sshdCount }, () => startSshd()));
  const relays: TcpProxy[] = await Promise.all(servers.map((s) => startTcpProxy(s.port)));
  const known = path.join(work, 'fleet-known-hosts');
  fs.writeFileSync(
    known,
    relays.map((r, i) => `[127.0.0.1]:${r.port} ${servers[i]!.hostPublicKey}\n`).join(''),
  );
  const env = { ...s3.env, CI: 'true', FORCE_COLOR: '0' };
  const config = (mode: 'push' | 'pull') => {
    const file = path.join(work, `fleet-${mode}.yml`);
    const hostMap = Object.fromEntries(
      Array.from({ length: hosts }, (_, i) => {
        const server = servers[i % servers.length]!;
        return [
          `web${i + 1}`,
          {
            hostname: server.host,
            port: relays[i % servers.length]!.port,
            user: server.user,
            identity_file: server.identityFile,
            known_hosts_file: known,
            deploy_path: path.join(work, `srv/fleet-${mode}/h${i + 1}`),
            stage: 'bench',
          },
        ];
      }),
    );
    fs.writeFileSync(
      file,
      stringify({
        application: 'bench',
        source: path.relative(work, app),
        keep_releases: 3,
        recipe: 'static',
        shared_dirs: ['storage'],
        parallel: hosts,
        fetch: mode,
        artifacts: { store: `s3://${s3.bucket}/bench`, endpoint: s3.endpoint },
        hosts: hostMap,
      }),
    );
    return file;
  };
  const connections = async () =>
    (await Promise.all(servers.map((s) => s.connections()))).reduce((a, n) => a + n, 0);
  const sshUp = () => relays.reduce((n, r) => n + r.bytes().up, 0);

  const build = async (cfg: string) => {
    const from = s3.requests.length;
    const r = await cli(['-c', cfg, 'build'], env);
    const id = r.out.replace(/^@\d+ /gm, '').match(/^[0-9a-f]{64}$/m)?.[0];
    if (!id) throw new Error(`deploy build printed no id:\n${r.out.slice(-2000)}`);
    return { id, storeBytes: sentToStore(s3.requests.slice(from)) };
  };
  const deploy = async (cfg: string, id: string): Promise<FleetSample> => {
    const from = s3.requests.length;
    const [ssh0, c0] = [sshUp(), await connections()];
    const r = await cli(['-c', cfg, '--artifact', id, 'bench'], env);
    const rows = s3.requests.slice(from);
    return {
      ms: r.ms,
      ssh: sshUp() - ssh0,
      store: sentToStore(rows),
      hostGets: rows.filter((q) => q.presigned && q.method === 'GET' && q.key.includes('/objects/')).length,
      connections: (await connections()) - c0,
      rssKiB: r.rssKiB,
    };
  };

  try {
    const cfg = { push: config('push'), pull: config('pull') };
    const first = await build(cfg.push);
    const artifactBytes = fs
      .readdirSync(path.join(app), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .reduce((n, d) => n + fs.statSync(path.join(d.parentPath, d.name)).size, 0);
    const out: Partial<FleetResult> = {
      hosts,
      files,
      sshds: sshdCount,
      artifactBytes,
      buildStoreBytes: first.storeBytes,
    };
    const firsts: Record<string, FleetSample> = {};
    for (const mode of ['push', 'pull'] as const) {
      firsts[mode] = await deploy(cfg[mode], first.id);
      log(
        `fleet ${mode}: first ${secs(firsts[mode]!.ms)}s, sent ${(firsts[mode]!.ssh + firsts[mode]!.store) / 1e6} MB`,
      );
    }
    changeFiles(app, 18);
    const second = await build(cfg.push);
    out.changedBuildStoreBytes = second.storeBytes;
    for (const mode of ['push', 'pull'] as const) {
      const changed = await deploy(cfg[mode], second.id);
      out[mode] = { first: firsts[mode]!, changed };
      log(`fleet ${mode}: 10-changed ${secs(changed.ms)}s, sent ${(changed.ssh + changed.store) / 1e6} MB`);
    }
    return out as FleetResult;
  } finally {
    await Promise.all([...relays.map((r) => r.close()), ...servers.map((s) => s.stop()), s3.stop()]);
    fs.rmSync(app, { recursive: true, force: true });
  }
}

const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

export function renderFleet(f: FleetResult | undefined): string {
  const out = ['', '## Fleet: push against pull from an S3 store (issue 18)', ''];
  if (!f) return [...out, 'Not measured in this run (`--no-fleet`).', ''].join('\n');
  out.push(
    `One artifact (\`deploy build\`, a ${f.files}-file app of ${mb(f.artifactBytes)}) deployed with \`--artifact\` to ${f.hosts} hosts: deploy paths over ${f.sshds} local sshd processes, each behind a relay counting what the deploying machine sends, and an s3rver store on 127.0.0.1. One run each (a run is minutes long). "Sent" is SSH bytes through the relays plus every request the deploying machine made to the store; the build put ${mb(f.buildStoreBytes)} into the store once (${mb(f.changedBuildStoreBytes)} after the 10-file change), whatever the number of hosts. Hosts, store and deploying machine share this machine's disk and cores: wall times say what the fan-out costs here, not on a real network.`,
    '',
    '| fetch | deploy | wall time | sent by the deploying machine | × artifact | objects hosts fetched | connections | peak RSS |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const mode of ['push', 'pull'] as const) {
    for (const [label, s] of [
      ['first', f[mode].first],
      ['10-changed', f[mode].changed],
    ] as const) {
      const sent = s.ssh + s.store;
      out.push(
        `| ${mode} | ${label} | ${secs(s.ms)} s | ${mb(sent)} (SSH ${mb(s.ssh)}, store ${mb(s.store)}) | ${(sent / f.artifactBytes).toFixed(2)} | ${s.hostGets} | ${s.connections} | ${(s.rssKiB / 1024).toFixed(0)} MiB |`,
      );
    }
  }
  return [...out, ''].join('\n');
}
