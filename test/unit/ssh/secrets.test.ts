import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { environmentSecrets, sharedFileSecrets } from '../../../src/config/secrets.js';
import { createMask } from '../../../src/config/secrets.js';
import { printedError } from '../../support/errors.js';

describe('secrets', () => {
  it('a config error never quotes a value that came from the environment', () => {
    const yaml = 'application: a\nhosts:\n  web:\n    port: ${SECRET_PORT}\n    deploy_path: /srv/a\n';
    const text = printedError(() => parseConfig(yaml, 'deploy.yml', { SECRET_PORT: 'hunter2-and-more' }));
    expect(text).toMatch(/^error ECONFIG: /);
    expect(text).toContain('hosts.web.port: expected number, got string from $SECRET_PORT');
    expect(text).not.toContain('hunter2-and-more');
  });

  it('a config error names the variable of a long environment value, never a cut of it', () => {
    const token = 'tok-AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIIIJJJJKKKK';
    const yaml = 'application: a\nhosts:\n  web:\n    port: ${TOKEN}\n    deploy_path: /srv/a\n';
    const text = printedError(() => parseConfig(yaml, 'deploy.yml', { TOKEN: token }));
    expect(text).toContain('hosts.web.port: expected number, got string from $TOKEN');
    expect(text).not.toContain(token.slice(0, 12));
  });

  it('hides SSH_PRIVATE_KEY line by line and the passphrase, whatever the caller passes', () => {
    const key =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAABBBBCCCCDDDDEEEEFFFF\nGGGGHHHHIIIIJJJJ\n-----END OPENSSH PRIVATE KEY-----\n';
    const env = { SSH_PRIVATE_KEY: key.replace(/\n/g, '\\n'), SSH_KEY_PASSPHRASE: 'open sesame' };
    expect(environmentSecrets(env)).toEqual(
      expect.arrayContaining(['AAAABBBBCCCCDDDDEEEEFFFF', 'open sesame']),
    );
    const mask = createMask([], env);
    expect(mask('bad line AAAABBBBCCCCDDDDEEEEFFFF with open sesame')).toBe('bad line *** with ***');
  });

  it('takes long lines and long values of shared files found in source, not short words', () => {
    const source = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-secrets-'));
    try {
      fs.writeFileSync(
        path.join(source, '.env'),
        '# comment that is long enough\nAPP_ENV=production\nexport DB_PASSWORD="c0rrect-h0rse-battery"\nDEBUG=1\n',
      );
      const secrets = sharedFileSecrets({ source, shared_files: ['.env', 'missing.json'] });
      expect(secrets).toContain('c0rrect-h0rse-battery');
      expect(secrets).toContain('APP_ENV=production');
      expect(secrets).not.toContain('production');
      expect(secrets).not.toContain('DEBUG=1');
      expect(secrets.some((s) => s.startsWith('#'))).toBe(false);
    } finally {
      fs.rmSync(source, { recursive: true, force: true });
    }
  });
});
