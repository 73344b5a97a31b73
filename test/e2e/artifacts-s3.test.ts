import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitIn, isolatedGitEnv } from '../support/git.js';
import { runCli, snapshot, sshHost, tmpDir, writeConfig, writeTree } from '../support/project.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

let s3: S3Server;
let sshd: SshdServer;
let work: string;

beforeAll(async () => {
  work = tmpDir('shipshape-artifacts-s3-');
  [s3, sshd] = await Promise.all([startS3Server(), startSshd()]);
});

afterAll(async () => {
  await Promise.all([s3?.stop(), sshd?.stop()]);
  fs.rmSync(work, { recursive: true, force: true });
});

/** An app in a git repository whose deploy.yml stores artifacts in the test's S3 server. */
function project(
  name: string,
  hosts: Record<string, Record<string, unknown>>,
  extra: Record<string, unknown> = {},
) {
  const top = path.join(work, name);
  writeTree(top, {
    'app/index.html': `<h1>${name}</h1>\n`,
    'app/bin/run': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
    'app/assets/blob.bin': randomBytes(300_000).toString('base64'),
    'app/empty.txt': '',
    'app/public/link': { link: '../index.html' },
    'app/odd name "quoted" \\ back.txt': 'odd\n',
    'app/-dash.txt': 'dash\n',
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
  return { top, app: path.join(top, 'app'), g, file, env };
}

describe('artifacts in an S3 store, hosts over a real sshd', () => {
  it('a host with curl pulls from the store; the release is the one a push builds', async () => {
    const hosts = {
      pull: sshHost(sshd, path.join(work, 'pull.server'), { fetch: 'pull' }),
      push: sshHost(sshd, path.join(work, 'push.server'), { fetch: 'push' }),
    };
    const p = project('pullpush', hosts);
    const built = await runCli(['-c', p.file, 'build'], { env: p.env });
    expect(built.code, built.output).toBe(0);
    const id = built.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    const r = await runCli(['-c', p.file, '--artifact', id, 'all'], { env: p.env });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('fetch: pull: the host fetches');
    const a = snapshot(path.join(work, 'pull.server/current'));
    const b = snapshot(path.join(work, 'push.server/current'));
    expect(a).toEqual(b);
    expect(a['bin/run']).toMatch(/^file 755 /);
    expect(a['public/link']).toBe('link ../index.html');
    expect(s3.requests.some((q) => q.presigned && q.method === 'GET' && q.key.includes('/objects/'))).toBe(
      true,
    );
  });
});
