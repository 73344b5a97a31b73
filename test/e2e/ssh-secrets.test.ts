import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logOf, runCli, sshHost, writeConfig, writeTree } from '../support/project.js';
import type { SshdServer } from '../support/sshd.js';
import { useSshd } from '../support/sshd-fixture.js';

let server: SshdServer;
let work: string;
let home: string;

/** Reaches deploy.yml through `${LEAK_DIR}` interpolation, so it counts as a secret. */
const SECRET_DIR = 'vault-dir-Zq81xK4p';
/** A value inside the shared file `.env`. */
const SHARED_VALUE = 'base64:Sh4redFileSecret+Value/0099';
const PASSPHRASE = 'pass-phrase-never-printed';

// A server-side fault that does what careless tools do: print the files and paths it touched.
useSshd('shipshape-secrets-', (fx) => ({ server, work, home } = fx), {
  fakes: () => ({
    tar: [
      '#!/bin/sh',
      '/bin/tar "$@" || exit $?',
      'for a; do dir=$a; done',
      'echo "tar: simulated failure in $dir; its .env reads:" >&2',
      'cat "$dir/../../shared/.env" >&2',
      'exit 2',
      '',
    ].join('\n'),
  }),
});

describe('secrets never reach output', () => {
  it('a failing deploy prints no interpolated value, shared file content, SSH_PRIVATE_KEY or passphrase', async () => {
    const dir = path.join(work, 'leak');
    writeTree(path.join(dir, 'app'), {
      'index.html': 'hi\n',
      '.env': `APP_ENV=production\nAPP_KEY=${SHARED_VALUE}\n`,
    });
    // The server's .env holds the same value as the local copy, which is what output is masked by.
    writeTree(path.join(dir, SECRET_DIR, 'server/shared'), {
      '.env': `APP_ENV=production\nAPP_KEY=${SHARED_VALUE}\n`,
    });
    const { identity_file: _noKeyFile, ...host } = sshHost(server, '', {});
    const file = writeConfig(dir, {
      application: 'leak',
      source: 'app',
      shared_files: ['.env'],
      hosts: { web: { ...host, deploy_path: `${dir}/\${LEAK_DIR}/server` } },
    });
    const privateKey = fs.readFileSync(server.identityFile, 'utf8');
    const keyLines = privateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));

    const results = [
      await runCli(['-c', file, 'web', '--verbose'], {
        env: {
          HOME: home,
          LEAK_DIR: SECRET_DIR,
          SSH_PRIVATE_KEY: privateKey,
          SSH_KEY_PASSPHRASE: PASSPHRASE,
        },
      }),
      await runCli(['-c', file, 'web', '--json'], {
        env: {
          HOME: home,
          LEAK_DIR: SECRET_DIR,
          SSH_PRIVATE_KEY: privateKey,
          SSH_KEY_PASSPHRASE: PASSPHRASE,
        },
      }),
    ];

    for (const r of results) {
      // It failed where the fault is, and the places that would have shown the secrets show ***.
      expect(r.code, r.output).toBe(1);
      expect(r.output).toContain('ESTAGE');
      expect(r.output).toContain('tar: simulated failure in');
      expect(r.output).toMatch(/its \.env reads:(\n|\\n)\*\*\*/);
      expect(r.output).toContain(`${dir}/***/server`);

      expect(r.output).not.toContain(SECRET_DIR);
      expect(r.output).not.toContain(SHARED_VALUE);
      expect(r.output).not.toContain(PASSPHRASE);
      for (const line of keyLines) expect(r.output).not.toContain(line);
    }
    const json = JSON.parse(results[1]!.stdout) as { hosts: { error?: { message: string } }[] };
    expect(json.hosts[0]?.error?.message).toContain('***');
    // The fault really ran on the server with the secret path: the masking, not luck, hid it.
    expect(logOf(path.join(dir, SECRET_DIR, 'server')).map((l) => l.status)).toContain('failed');
  });
});
