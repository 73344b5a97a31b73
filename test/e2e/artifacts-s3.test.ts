import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitIn, isolatedGitEnv } from '../support/git.js';
import { runCli, snapshot, sshHost, tmpDir, writeConfig, writeTree } from '../support/project.js';
import { startS3Server, type S3Request, type S3Server } from '../support/s3-server.js';
import { startSshd, type SshdServer } from '../support/sshd.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const run = promisify(execFile);

let s3: S3Server;
/** A host with the machine's curl and wget. */
let sshd: SshdServer;
/** A host whose HTTP clients go through a proxy that is not there: it cannot reach the store. */
let walled: SshdServer;
/** A host with GNU wget but no curl. */
let wgetOnly: SshdServer;
/** A host with neither. */
let bare: SshdServer;
let work: string;

/** A PATH directory with every program of /usr/bin but the ones named. */
function pathWithout(dir: string, missing: readonly string[]): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of fs.readdirSync('/usr/bin')) {
    if (!missing.includes(name)) fs.symlinkSync(path.join('/usr/bin', name), path.join(dir, name));
  }
  return dir;
}

beforeAll(async () => {
  work = tmpDir('shipshape-artifacts-s3-');
  const noCurl = pathWithout(path.join(work, 'bin-nocurl'), ['curl']);
  const noHttp = pathWithout(path.join(work, 'bin-nohttp'), ['curl', 'wget']);
  [s3, sshd, walled, wgetOnly, bare] = await Promise.all([
    startS3Server(),
    startSshd(),
    startSshd({ env: { http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' } }),
    startSshd({ env: { PATH: noCurl } }),
    startSshd({ env: { PATH: noHttp } }),
  ]);
});

afterAll(async () => {
  await Promise.all([s3, sshd, walled, wgetOnly, bare].map((s) => s?.stop()));
  fs.rmSync(work, { recursive: true, force: true });
});

/** An app in a git repository whose deploy.yml stores artifacts in the test's S3 server. */
function project(
  name: string,
  hosts: Record<string, Record<string, unknown>>,
  extra: Record<string, unknown> = {},
  files: Parameters<typeof writeTree>[1] = {},
) {
  const top = path.join(work, name);
  writeTree(top, {
    'app/index.html': `<h1>${name}</h1>\n`,
    'app/bin/run': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
    'app/assets/blob.bin': randomBytes(30_000).toString('base64'),
    'app/empty.txt': '',
    'app/public/link': { link: '../index.html' },
    'app/odd name "quoted" \\ back.txt': 'odd\n',
    'app/-dash.txt': 'dash\n',
    ...files,
  });
  const g = gitIn(top);
  g.init();
  g.commitAll('v1');
  const file = writeConfig(top, {
    application: name,
    source: 'app',
    recipe: 'static',
    artifacts: { store: `s3://${s3.bucket}/${name}`, endpoint: s3.endpoint },
    hosts,
    ...extra,
  });
  const env = { ...isolatedGitEnv(top), ...s3.env };
  const build = async () => {
    const r = await runCli(['-c', file, 'build'], { env });
    expect(r.code, r.output).toBe(0);
    return r.stdout.trim();
  };
  return { top, app: path.join(top, 'app'), g, file, env, build };
}

const current = (deployPath: string) => fs.readlinkSync(path.join(deployPath, 'current'));
const since = (from: number) => s3.requests.slice(from);
/** What the deploying machine sent the store: every request not made with a presigned URL (the SDK's). */
const sentToStore = (rows: readonly S3Request[]) =>
  rows.filter((q) => !q.presigned).reduce((n, q) => n + q.headerBytes + q.bytesIn, 0);

describe('artifacts in an S3 store, hosts over a real sshd', () => {
  it('the harness refuses a presigned URL altered after signing, as S3 does', async () => {
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'probe/a', Body: 'hello' }));
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'probe/b', Body: 'other' }));
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: s3.bucket, Key: 'probe/a' }), {
      expiresIn: 60,
    });
    const get = async (u: string) =>
      (await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', u])).stdout;
    expect(await get(url)).toBe('200');
    expect(await get(url.replace('/probe/a?', '/probe/b?'))).toBe('403');
    expect(
      await get(
        url.replace(/X-Amz-Signature=[0-9a-f]/, (m) =>
          m.endsWith('0') ? `${m.slice(0, -1)}1` : `${m.slice(0, -1)}0`,
        ),
      ),
    ).toBe('403');
    client.destroy();
  });

  it('a host with curl pulls from the store, one with wget too; the releases are the ones a push builds', async () => {
    const hosts = {
      curl: sshHost(sshd, path.join(work, 'pp-curl'), { fetch: 'pull' }),
      wget: sshHost(wgetOnly, path.join(work, 'pp-wget'), { fetch: 'pull' }),
      push: sshHost(sshd, path.join(work, 'pp-push'), { fetch: 'push' }),
    };
    const p = project('pullpush', hosts);
    const id = await p.build();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    // Hosts that may pull keep the link phase apart (their fetch bundles leave the store once the
    // upload phase is over): the dry run shows the phases as the run sends them.
    const dry = await runCli(['-c', p.file, '--dry-run', '--json', '--artifact', id, 'all'], { env: p.env });
    expect(dry.code, dry.output).toBe(0);
    const plan = JSON.parse(dry.stdout) as { hosts: { phases: { phase: string }[] }[] };
    for (const h of plan.hosts)
      expect(h.phases.map((ph) => ph.phase)).toEqual(['prepare', 'upload', 'link', 'switch', 'finish']);
    const from = s3.requests.length;
    const r = await runCli(['-c', p.file, '--artifact', id, 'all'], { env: p.env });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/\[curl\] fetch: pull: the host fetches 5 file\(s\).*\(curl\)/);
    expect(r.output).toMatch(/\[wget\] fetch: pull: the host fetches 5 file\(s\).*\(wget\)/);
    const want = snapshot(path.join(work, 'pp-push/current'));
    expect(snapshot(path.join(work, 'pp-curl/current'))).toEqual(want);
    expect(snapshot(path.join(work, 'pp-wget/current'))).toEqual(want);
    expect(want['bin/run']).toMatch(/^file 755 /);
    expect(want['public/link']).toBe('link ../index.html');
    expect(want['empty.txt']).toMatch(/^file 644 /);
    // The hosts' own clients fetched the objects with presigned URLs: curl's and wget's user agents.
    const fetched = since(from).filter((q) => q.presigned && q.key.includes('/objects/'));
    expect(fetched.some((q) => q.userAgent.startsWith('curl/') && q.status === 200)).toBe(true);
    expect(fetched.some((q) => q.userAgent.startsWith('Wget/') && q.status === 200)).toBe(true);
    // The fetch bundles were for this deploy only.
    const bundles = since(from).filter((q) => q.method === 'PUT' && q.key.includes('/fetch/'));
    expect(bundles.length).toBe(2);
    for (const b of bundles)
      expect(since(from).some((q) => q.method === 'DELETE' && q.key === b.key && q.status === 204)).toBe(
        true,
      );

    // The next deploy of the same artifact is incremental and fetches nothing.
    const again = await runCli(['-c', p.file, '--artifact', id, 'curl'], { env: p.env });
    expect(again.code, again.output).toBe(0);
    expect(again.output).toMatch(/incremental upload .*: 0 new or changed/);
    expect(again.output).not.toContain('fetch: pull');
  });

  it(
    'twenty hosts: the deploying machine sends about the artifact once; a 10-file change sends the store those files only',
    { timeout: 240_000 },
    async () => {
      const proxy = await startTcpProxy(sshd.port);
      const knownHosts = path.join(work, 'fleet-known-hosts');
      fs.writeFileSync(knownHosts, `[127.0.0.1]:${proxy.port} ${sshd.hostPublicKey}\n`);
      const aliases = Array.from({ length: 20 }, (_, i) => `web${i + 1}`);
      const hosts = Object.fromEntries(
        aliases.map((a) => [
          a,
          sshHost(sshd, path.join(work, 'fleet', a), { port: proxy.port, known_hosts_file: knownHosts }),
        ]),
      );
      const p = project('fleet', hosts, { parallel: 10 });
      fs.mkdirSync(path.join(p.app, 'media'));
      for (let i = 0; i < 70; i++) fs.writeFileSync(path.join(p.app, `media/${i}.bin`), randomBytes(170_000));
      p.g.commitAll('media');
      try {
        const from = s3.requests.length;
        const id = await p.build();
        const manifest = (await runCli(['-c', p.file, '--json', 'artifacts', 'list'], { env: p.env })).stdout;
        const size = (JSON.parse(manifest) as { artifacts: { id: string; bytes: number }[] }).artifacts.find(
          (a) => a.id === id,
        )!.bytes;
        // Each host costs a fixed ~36 KB over SSH (handshake, the phases' scripts), whatever the
        // artifact: 20 hosts (with the store's requests) stay within the tenth above 10 MB, and
        // at 10 MB they had come within 0.1 % of it, so the artifact is 12 MB.
        expect(size).toBeGreaterThan(11_500_000);
        const r = await runCli(['-c', p.file, '--artifact', id, 'all'], { env: p.env });
        expect(r.code, r.output).toBe(0);
        for (const a of aliases) expect(r.output).toContain(`[${a}] fetch: pull:`);
        const sent = proxy.bytes().up + sentToStore(since(from));
        // Today's push would send size × 20; the store's requests and the SSH sessions add a few percent.
        expect(sent / size, `sent ${sent} for an artifact of ${size}`).toBeLessThanOrEqual(1.1);
        expect(sent, 'the build stored the content once').toBeGreaterThan(size);

        // Ten files change: the store receives those ten objects, nothing else of the content.
        const changed = Array.from({ length: 10 }, (_, i) => `media/${i}.bin`);
        let changedBytes = 0;
        for (const f of changed) {
          const bytes = randomBytes(120_000);
          changedBytes += bytes.length;
          fs.writeFileSync(path.join(p.app, f), bytes);
        }
        p.g.commitAll('ten files');
        const before = s3.requests.length;
        const id2 = await p.build();
        const puts = since(before).filter((q) => q.method === 'PUT' && q.key.includes('/objects/'));
        expect(puts.length).toBe(10);
        expect(puts.reduce((n, q) => n + q.bytesIn, 0)).toBe(changedBytes);
        const sshBefore = proxy.bytes().up;
        const r2 = await runCli(['-c', p.file, '--artifact', id2, 'all'], { env: p.env });
        expect(r2.code, r2.output).toBe(0);
        expect(r2.output).toContain('[web1] fetch: pull: the host fetches 10 file(s)');
        // Over SSH each host got its lists and one URL: far less than one copy of the change.
        expect(proxy.bytes().up - sshBefore).toBeLessThan(changedBytes);
        for (const a of aliases) {
          expect(fs.readFileSync(path.join(work, 'fleet', a, 'current/media/0.bin'))).toEqual(
            fs.readFileSync(path.join(p.app, 'media/0.bin')),
          );
        }
      } finally {
        await proxy.close();
      }
    },
  );

  it('an object altered in the store fails the deploy before any switch, naming the file; current is unchanged everywhere', async () => {
    const hosts = {
      puller: sshHost(sshd, path.join(work, 'alt-pull'), { fetch: 'pull' }),
      pusher: sshHost(sshd, path.join(work, 'alt-push'), { fetch: 'push' }),
    };
    const p = project('altered', hosts);
    const first = await runCli(['-c', p.file, '--artifact', await p.build(), 'all'], { env: p.env });
    expect(first.code, first.output).toBe(0);
    const live = {
      puller: current(path.join(work, 'alt-pull')),
      pusher: current(path.join(work, 'alt-push')),
    };

    fs.writeFileSync(path.join(p.app, 'index.html'), '<h1>v2, the one to be altered</h1>\n');
    p.g.commitAll('v2');
    const id = await p.build();
    const put = s3.requests.filter((q) => q.method === 'PUT' && q.key.startsWith('altered/objects/')).at(-1)!;
    const file = s3.objectFile(put.key);
    const bytes = fs.readFileSync(file);
    bytes[0] = bytes[0]! ^ 0x20; // same length, one bit different
    fs.writeFileSync(file, bytes);

    const r = await runCli(['-c', p.file, '--json', '--artifact', id, 'all'], { env: p.env });
    expect(r.code).not.toBe(0);
    // The puller's own sha256sum found it; the deploying machine found it while pushing to the other.
    const outcomes = (
      JSON.parse(r.stdout) as { hosts: { host: string; error?: { code: string; message: string } }[] }
    ).hosts;
    expect(outcomes.length).toBe(2);
    for (const h of outcomes) {
      expect(h.error?.code, h.host).toBe('EOBJECT');
      expect(h.error?.message).toMatch(
        /index\.html: its content in the artifact store does not match its sha256/,
      );
    }
    expect(r.stderr).toMatch(/> upload/);
    expect(r.stderr).not.toMatch(/> symlink/);
    expect(current(path.join(work, 'alt-pull'))).toBe(live.puller);
    expect(current(path.join(work, 'alt-push'))).toBe(live.pusher);
    expect(fs.readFileSync(path.join(work, 'alt-pull/current/index.html'), 'utf8')).toBe(
      '<h1>altered</h1>\n',
    );
  });

  it('with fetch: auto, a host that cannot reach the store, and one with neither curl nor wget, get the files by push and say so', async () => {
    const hosts = {
      walled: sshHost(walled, path.join(work, 'auto-walled')),
      bare: sshHost(bare, path.join(work, 'auto-bare')),
      open: sshHost(sshd, path.join(work, 'auto-open')),
    };
    const p = project('auto', hosts);
    const r = await runCli(['-c', p.file, '--artifact', await p.build(), 'all'], { env: p.env });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(
      /\[walled\] warn: fetch: auto: curl on the host could not reach the store: no answer .*; the files go over SSH instead \(push\)/,
    );
    expect(r.output).toMatch(
      /\[bare\] warn: fetch: auto: the host has neither curl nor GNU wget; the files go over SSH instead/,
    );
    expect(r.output).toContain('[open] fetch: pull:');
    const want = snapshot(path.join(work, 'auto-open/current'));
    expect(snapshot(path.join(work, 'auto-walled/current'))).toEqual(want);
    expect(snapshot(path.join(work, 'auto-bare/current'))).toEqual(want);

    // fetch: pull on such a host fails it before anything is uploaded, and no host switches.
    const strict = writeConfig(p.top, {
      ...(JSON.parse(JSON.stringify({})) as object),
      application: 'auto',
      source: 'app',
      recipe: 'static',
      artifacts: { store: `s3://${s3.bucket}/auto`, endpoint: s3.endpoint },
      hosts: { walled: { ...hosts.walled, fetch: 'pull' }, open: hosts.open },
    });
    fs.writeFileSync(path.join(p.app, 'index.html'), 'v2\n');
    p.g.commitAll('v2');
    const before = {
      walled: current(path.join(work, 'auto-walled')),
      open: current(path.join(work, 'auto-open')),
    };
    const f = await runCli(['-c', strict, '--artifact', await p.build(), 'all'], { env: p.env });
    expect(f.code).not.toBe(0);
    expect(f.output).toMatch(/walled: fetch: pull, but curl on the host could not reach the store/);
    expect(current(path.join(work, 'auto-walled'))).toBe(before.walled);
    expect(current(path.join(work, 'auto-open'))).toBe(before.open);
  });

  it('no presigned URL, key or secret in the output, --json, --log, the release log, or any process list while hosts fetch', async () => {
    const hosts = {
      a: sshHost(sshd, path.join(work, 'sec-a'), { fetch: 'pull' }),
      b: sshHost(wgetOnly, path.join(work, 'sec-b'), { fetch: 'pull' }),
    };
    const p = project('secrets', hosts);
    const id = await p.build();
    const seen = new Set<string>();
    let sampling = true;
    const sample = async () => {
      while (sampling) {
        for (const pid of fs.readdirSync('/proc')) {
          if (!/^\d+$/.test(pid)) continue;
          try {
            const line = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
            if (line) seen.add(line);
          } catch {
            /* gone */
          }
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    s3.delayPresigned(150);
    const sampler = sample();
    let r: Awaited<ReturnType<typeof runCli>>;
    // --log keeps the whole run at -vv: every script sent, the fetch included.
    const logFile = path.join(work, 'secrets.log');
    try {
      r = await runCli(['-c', p.file, '--json', '--log', logFile, '--artifact', id, 'all'], { env: p.env });
    } finally {
      sampling = false;
      s3.delayPresigned(0);
      await sampler;
    }
    expect(r.code, r.output).toBe(0);
    // Sampled while the hosts fetched: their curl and wget were seen, with nothing but options.
    const cmdlines = [...seen];
    expect(cmdlines.some((c) => c.startsWith('curl --parallel'))).toBe(true);
    expect(cmdlines.some((c) => c.startsWith('wget -q --tries=3 -O ./'))).toBe(true);
    const logs = ['sec-a', 'sec-b'].map((d) =>
      fs.readFileSync(path.join(work, d, '.deploy/releases.jsonl'), 'utf8'),
    );
    const transcript = fs.readFileSync(logFile, 'utf8');
    expect(transcript).toMatch(/curl|wget/);
    for (const text of [r.output, transcript, ...logs, ...cmdlines]) {
      expect(text).not.toMatch(/X-Amz-(Signature|Credential)/);
      expect(text).not.toContain(s3.secretAccessKey);
      expect(text).not.toContain(s3.accessKeyId);
    }
    const json = JSON.parse(r.stdout) as { artifact: string; revision: string };
    expect(json.artifact).toBe(id);
    for (const log of logs) expect(log).toContain(`"artifact":"${id}"`);
  });
});
