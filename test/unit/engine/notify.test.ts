import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createMask } from '../../../src/config/secrets.js';
import { chatText, notify, type RunSummary } from '../../../src/engine/notify.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';

const summary = (over: Partial<RunSummary> = {}): RunSummary => ({
  event: 'failure',
  application: 'shop',
  selector: 'production',
  hosts: [{ host: 'web1', status: 'failed' }],
  release: '20260101-000000',
  user: 'alice',
  duration_ms: 12_345,
  error: { code: 'ESTAGE', message: 'web1: stage `before:symlink` failed <exit 1> & more\n  command: x' },
  ...over,
});

describe('notifications', () => {
  it('one line for a chat: what, where, who, how long, and the error’s first line', () => {
    expect(chatText(summary())).toBe(
      '❌ shop: deploy failed 20260101-000000 on web1 (production, by alice, 12.3s)\nESTAGE: web1: stage `before:symlink` failed <exit 1> & more',
    );
    expect(chatText(summary({ event: 'rollback', error: undefined }))).toBe(
      '↩️ shop: rolled back on web1 (production, by alice, 12.3s)',
    );
    // A name with a line break stays on the message's one line; only the error's line follows.
    const forged = chatText(summary({ application: 'shop\n✅ shop: deployed', user: 'alice\r\nbob' }));
    expect(forged.split('\n')).toHaveLength(2);
    expect(forged).toContain('❌ shop\\x0a✅ shop: deployed: deploy failed');
    expect(forged).toContain('by alice\\x0d\\x0abob,');
  });

  it('Slack gets its three characters escaped; every string is masked; the URL is never in a warning', async () => {
    const got: { url: string; body: Record<string, unknown> }[] = [];
    const server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        got.push({ url: req.url!, body: JSON.parse(data) as Record<string, unknown> });
        res.writeHead(req.url === '/bad' ? 502 : 200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const reporter = new MemoryReporter();
      await notify(
        { slack: `${base}/slack`, webhook: `${base}/bad`, on: ['failure'] },
        summary({ error: { code: 'ESTAGE', message: 'token s3cr3t-value <x> & y' } }),
        { reporter, mask: createMask(['s3cr3t-value'], {}) },
      );
      const slack = got.find((g) => g.url === '/slack')!.body;
      expect(slack.text).toContain('ESTAGE: token *** &lt;x&gt; &amp; y');
      expect(got.find((g) => g.url === '/bad')!.body).toMatchObject({
        error: { message: 'token *** <x> & y' },
      });
      expect(reporter.events).toEqual(['warn webhook notification for failure not sent: answered 502']);
      // An event the configuration does not list sends nothing.
      await notify({ slack: `${base}/slack`, on: ['failure'] }, summary({ event: 'start' }), { reporter });
      expect(got).toHaveLength(2);
    } finally {
      server.close();
    }
  });
});
