import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releasesOf, runCli, sshProject } from '../support/project.js';
import { useSshd } from '../support/sshd-fixture.js';

/**
 * The end of a deploy: hooks.after.success / failure with SHIPSHAPE_STATUS and SHIPSHAPE_ERROR,
 * and notifications, POSTed to a real HTTP server on 127.0.0.1. Neither ever changes the exit code.
 */
const suite = useSshd('shipshape-events-');

const NO_CI = { GITHUB_ACTIONS: '', GITLAB_CI: '' };

interface Received {
  path: string;
  body: Record<string, unknown>;
}

/** An HTTP server that records every POST and answers 200 (or holds `/hang` forever). */
let server: http.Server;
let base = '';
const received: Received[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(data || '{}') as Record<string, unknown> });
      if (req.url === '/hang') return; // never answers: the client must give up
      res.writeHead(req.url === '/error' ? 500 : 200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const at = (p: string) => received.filter((r) => r.path === p);

/** A port nothing listens on: bound, then closed again. */
async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const project = (name: string, config: Record<string, unknown>) =>
  sshProject(
    suite.server,
    suite.work,
    name,
    { 'index.html': 'hi\n' },
    { config, host: { stage: 'production' } },
  );

describe('events and notifications', () => {
  it('success POSTs one JSON object naming the release; a failing hook runs after.failure and POSTs failure', async () => {
    const p = project('notify', {
      notify: { webhook: '${HOOK_URL}' },
      hooks: {
        after: {
          success: ['echo "after success: $SHIPSHAPE_STATUS $SHIPSHAPE_RELEASE" > ../../success.txt'],
          failure: [
            'printf "%s|%s|%s\\n" "$SHIPSHAPE_STATUS" "$SHIPSHAPE_ERROR" "$SHIPSHAPE_RELEASE" > failure.txt',
            { run: 'echo "local $SHIPSHAPE_STATUS" > local-failure.txt', local: true },
          ],
        },
      },
    });
    const url = `${base}/deploys/${p.dir.length}`;
    const env = { ...NO_CI, HOOK_URL: url };
    const ok = await runCli(['-c', p.file, 'production'], { env });
    expect(ok.code, ok.output).toBe(0);
    const [release] = releasesOf(p.deployPath);
    const path1 = new URL(url).pathname;
    expect(at(path1)).toHaveLength(1);
    expect(at(path1)[0]!.body).toMatchObject({
      event: 'success',
      application: 'notify',
      selector: 'production',
      release,
      hosts: [{ host: 'web', status: 'success', release }],
      user: expect.any(String),
      duration_ms: expect.any(Number),
    });
    expect(fs.readFileSync(path.join(p.deployPath, 'success.txt'), 'utf8')).toBe(
      `after success: success ${release}\n`,
    );
    // The URL came from ${HOOK_URL}: it is a secret like any, never printed.
    expect(ok.output).not.toContain(url);

    const failing = await runCli(['-c', p.file, 'production', '-o', 'hooks.before.symlink=[exit 7]'], {
      env,
    });
    expect(failing.code, failing.output).toBe(1);
    const posts = at(path1);
    expect(posts).toHaveLength(2);
    expect(posts[1]!.body).toMatchObject({
      event: 'failure',
      previous_release: release,
      hosts: [{ host: 'web', status: 'failed', previous_release: release }],
      error: { code: 'ESTAGE', message: expect.stringContaining('stage `before:symlink` failed (exit 7)') },
    });
    const failed = releasesOf(p.deployPath).find((r) => r !== release);
    expect(fs.readFileSync(path.join(p.deployPath, 'failure.txt'), 'utf8')).toBe(
      `failed|ESTAGE: web: stage \`before:symlink\` failed (exit 7)|${posts[1]!.body.release ?? failed ?? ''}\n`,
    );
    expect(fs.readFileSync(path.join(p.dir, 'app/local-failure.txt'), 'utf8')).toBe('local failed\n');
    expect(fs.readlinkSync(path.join(p.deployPath, 'current'))).toBe(`releases/${release}`);
  });

  it('a refused URL and one that never answers (5 s) warn; the exit code stays 0', async () => {
    const p = project('refused', {
      notify: { webhook: `http://127.0.0.1:${await refusedPort()}/x`, slack: `${base}/hang` },
    });
    const r = await runCli(['-c', p.file, 'web'], { env: NO_CI });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain('warn: webhook notification for success not sent: ECONNREFUSED');
    expect(r.stdout).toContain('warn: slack notification for success not sent: no answer within 5 s');
    expect(at('/hang')).toHaveLength(1);
  });

  it('a failing event hook is a warning: the deploy still exits 0', async () => {
    const p = project('event-fails', { hooks: { after: { success: ['echo broken >&2; exit 9'] } } });
    const r = await runCli(['-c', p.file, 'web'], { env: NO_CI });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/warn: hooks after success failed \(the deploy's result stands\)/);
    expect(r.stdout).toContain('| broken');
  });

  it('slack and discord in their own formats; start is opt-in; a failed health check is a failure', async () => {
    const p = project('chat', {
      notify: { slack: `${base}/slack`, discord: `${base}/discord`, on: ['start', 'success', 'failure'] },
      healthcheck: { command: 'test -f healthy', retries: 0, interval: 0 },
      hooks: { after: { failure: ['echo "$SHIPSHAPE_STATUS" > health-failure.txt'] } },
    });
    const r = await runCli(['-c', p.file, 'web'], { env: NO_CI });
    expect(r.code, r.output).toBe(4);
    const slack = at('/slack').map((x) => x.body);
    expect(slack.map((b) => String(b.text).split(' ')[0])).toEqual(['🚀', '❌']);
    expect(String(slack[0]!.text)).toMatch(/^🚀 chat: deploying on web \(web, by \S+, \d+\.\ds\)$/);
    expect(String(slack[1]!.text)).toContain('EHEALTH: web: health check failed after the switch');
    const discord = at('/discord').map((x) => x.body);
    expect(discord).toHaveLength(2);
    expect(discord[1]).toMatchObject({ allowed_mentions: { parse: [] } });
    expect(String(discord[1]!.content)).toMatch(/^❌ chat: deploy failed \d{8}-\d{6} on web/);
    expect(fs.readFileSync(path.join(p.deployPath, 'health-failure.txt'), 'utf8')).toBe('failed\n');
  });

  it('an interrupted deploy is a failure too: its hooks run, and it still exits 130', async () => {
    const p = project('interrupted', {
      hooks: {
        after: {
          upload: ['sleep 30.5'],
          failure: ['printf "%s %s\\n" "$SHIPSHAPE_STATUS" "$SHIPSHAPE_ERROR" > interrupted.txt'],
        },
      },
    });
    let pid = 0;
    let sent = false;
    const r = await runCli(['-c', p.file, 'web'], {
      env: NO_CI,
      onSpawn: (n) => (pid = n),
      onStdout: (text) => {
        if (!sent && text.includes('> after:upload')) {
          sent = true;
          process.kill(pid, 'SIGINT');
        }
      },
    });
    expect(sent, r.output).toBe(true);
    expect(r.code, r.output).toBe(130);
    expect(fs.readFileSync(path.join(p.deployPath, 'interrupted.txt'), 'utf8')).toBe(
      'failed EINTERRUPTED: interrupted by SIGINT\n',
    );
  });

  it('`deploy rollback` notifies rollback, with the release it went back to', async () => {
    const p = project('rollback-notify', { notify: { webhook: `${base}/rollback` } });
    for (let i = 0; i < 2; i++) expect((await runCli(['-c', p.file, 'web'], { env: NO_CI })).code).toBe(0);
    const [older, newer] = releasesOf(p.deployPath);
    const r = await runCli(['-c', p.file, 'rollback', 'web'], { env: NO_CI });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain('rolling back web');
    expect(r.stdout).not.toContain('deploying to');
    const last = at('/rollback').at(-1)!.body;
    expect(last).toMatchObject({
      event: 'rollback',
      release: older,
      hosts: [{ host: 'web', status: 'rolled_back', release: older, previous_release: newer }],
    });
  });
});
