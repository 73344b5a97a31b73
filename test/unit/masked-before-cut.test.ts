import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createMask } from '../../src/config/secrets.js';
import { isDeployError } from '../../src/definitions/errors.js';
import { checkUrl } from '../../src/engine/health.js';
import { stderrTail } from '../../src/engine/executor.js';
import { keptTail, runLocalStep } from '../../src/engine/hooks-local.js';
import { quote } from '../../src/remote/sh.js';
import { printedError } from '../support/errors.js';
import { createSanitiser } from '../../src/ui/sanitise.js';

/**
 * Each place that shortens text which may hold a secret masks it first: cut first, the secret's
 * opening characters would be left where the mask no longer recognises the whole value.
 */
const SECRET = 'Zq7xK2pV-long-secret-value-0123456789';
const PREFIX = SECRET.slice(0, 6);
const mask = createMask([SECRET], {});

describe('masked before it is cut', () => {
  it('a NUL-byte error quotes the whole value, so a secret in it is masked whole', () => {
    const text = printedError(() => quote(`${'p'.repeat(30)}${SECRET}\0`), createSanitiser({ mask }));
    expect(text).toContain('error EQUOTE');
    expect(text).toContain('***');
    expect(text).not.toContain(PREFIX);
  });

  it('a config value is masked before it is quoted and cut to 40 characters', () => {
    const yaml = `application: a\nhosts:\n  web:\n    port: "${'p'.repeat(30)}${SECRET}"\n    deploy_path: /srv/a\n`;
    // The passphrase, typed into deploy.yml by hand where it does not belong.
    const text = printedError(() => parseConfig(yaml, 'deploy.yml', { SSH_KEY_PASSPHRASE: SECRET }));
    expect(text).toContain('hosts.web.port: expected number, got string "pppp');
    expect(text).not.toContain(PREFIX);
  });

  it('the last lines of stderr are cut after masking, so a multi-line secret cut in two is hidden', () => {
    // Lines too short to be masked one by one: only the whole value identifies them.
    const secret = 'ab1\ncd2\nef3\ngh4';
    // Secret first: cut to 15 lines before masking, its first two lines would fall off and
    // the last two would show.
    const stderr = [secret, ...Array.from({ length: 13 }, (_, i) => `noise ${i}`)].join('\n');
    const tail = stderrTail(stderr, createMask([secret], {}));
    expect(tail).not.toMatch(/ab1|cd2|ef3|gh4/);
    expect(tail.split('\n')).toEqual(['***', ...Array.from({ length: 13 }, (_, i) => `noise ${i}`)]);
  });

  it('a local step’s kept output is masked before it is cut, so a secret straddling the cut is hidden', () => {
    // 83 characters kept with a limit of 40: the cut, 40 from the end, falls inside the secret.
    const lines = ['x'.repeat(40), SECRET, 'yyy'];
    const tail = lines.reduce((t, line) => keptTail(t, line, mask, 40), '');
    expect(tail).toBe(`${'x'.repeat(31)}\n***\nyyy\n`);
    // Cut before masking, the secret's last characters would be kept.
    expect(tail).not.toContain(SECRET.slice(-12));
  });

  it('a failing local step quotes its last lines masked, the secret 64 KiB back included', async () => {
    const secret = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
    // 65,549 characters in all: the 64 KiB tail of old began 13 characters into the secret.
    const run = `printf '%s\\n' '${secret}'; head -c 65515 /dev/zero | tr '\\0' F; echo; exit 1`;
    const failed = await runLocalStep(run, process.cwd(), { mask: createMask([secret], {}) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDeployError(failed, 'ESTAGE')).toBe(true);
    const stderr = isDeployError(failed, 'ESTAGE') ? failed.details.stderr : '';
    expect(stderr.split('\n')[0]).toBe('***');
    expect(stderr).not.toContain(secret.slice(-12));
  });

  describe('a health check URL whose error page echoes a secret', () => {
    let server: http.Server;
    let url: string;
    beforeAll(async () => {
      server = http.createServer((_req, res) => {
        res.writeHead(500);
        res.end(`${'e'.repeat(190)}${SECRET}`);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('shows the first 200 characters of the body, masked first', async () => {
      const check = { url, expect_status: 200, timeout: 5, retries: 0, interval: 1 };
      const saw = await checkUrl(check, undefined, mask);
      expect(saw).toContain('answered 500 (expected 200)');
      expect(saw).toContain('***');
      expect(saw).not.toContain(PREFIX);
    });
  });
});
