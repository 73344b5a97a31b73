import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { environmentSecrets, sharedFileSecrets } from '../../../src/config/secrets.js';
import { isDeployError } from '../../../src/definitions/errors.js';
import { createMask } from '../../../src/config/secrets.js';
import { formatError } from '../../../src/ui/print-error.js';

describe('secrets', () => {
  it('a config error never quotes a value that came from the environment', () => {
    const yaml = 'application: a\nhosts:\n  web:\n    port: ${SECRET_PORT}\n    deploy_path: /srv/a\n';
    let error: unknown;
    try {
      parseConfig(yaml, 'deploy.yml', { SECRET_PORT: 'hunter2-and-more' });
    } catch (e) {
      error = e;
    }
    expect(isDeployError(error)).toBe(true);
    const text = formatError(error);
    expect(text).toContain('hosts.web.port: expected number, got string from $SECRET_PORT');
    expect(text).not.toContain('hunter2-and-more');
  });

  // duplicates: the parse-and-format steps of masked-before-cut.test.ts, with another value and claim.
  it('a config error names the variable of a long environment value, never a cut of it', () => {
    const token = 'tok-AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIIIJJJJKKKK';
    const yaml = 'application: a\nhosts:\n  web:\n    port: ${TOKEN}\n    deploy_path: /srv/a\n';
    let error: unknown;
    try {
      parseConfig(yaml, 'deploy.yml', { TOKEN: token });
    } catch (e) {
      error = e;
    }
    const text = formatError(error);
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
