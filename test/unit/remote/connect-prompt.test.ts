import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import type { HostConfig } from '../../../src/config/schema.js';
import { createMask } from '../../../src/config/secrets.js';
import type { Sanitiser } from '../../../src/definitions/sanitise.js';
import { connectSsh } from '../../../src/remote/connect.js';
import { describeNeeding } from '../../support/requirements.js';
import { generateKey, tempDir, withoutSshKeygen } from '../ssh/keys.js';

/** What the passphrase prompt would have shown for each key it was asked about. */
const shown: string[] = [];
vi.mock('../../../src/ssh/prompt.js', () => ({
  terminalPassphrasePrompt: (clean: Sanitiser) => async (label: string) => {
    shown.push(clean.field(label));
    return undefined;
  },
}));

const SECRET = 'hunter2-secret-value';
const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A port nothing listens on, so the connection fails at once, after the keys were read. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describeNeeding(withoutSshKeygen, 'connecting to a host with an encrypted key', () => {
  it('gives the passphrase prompt the run’s mask for the key’s path', async () => {
    const dir = join(tmp.dir, SECRET);
    mkdirSync(dir);
    const plain = generateKey(tmp.dir, 'ed25519', 'plain');
    const encrypted = join(dir, 'id_ed25519');
    copyFileSync(plain.privateFile, encrypted);
    execFileSync('ssh-keygen', ['-q', '-p', '-N', 'sesame', '-f', encrypted]);
    const sshConfig = join(tmp.dir, 'ssh_config');
    writeFileSync(sshConfig, '');

    const host = {
      hostname: '127.0.0.1',
      port: await closedPort(),
      user: 'deploy',
      identity_file: encrypted,
    };
    await expect(
      connectSsh(
        'web',
        host as HostConfig,
        {},
        {
          config: { ssh_config_file: sshConfig, host_key_checking: 'off' } as never,
          mask: createMask([SECRET], {}),
        },
      ),
    ).rejects.toThrow();
    expect(shown).toEqual([`${tmp.dir}/***/id_ed25519`]);
  });
});
