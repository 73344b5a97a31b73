import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyAuthMethod } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKeys, planAuth } from '../../../src/ssh/auth.js';
import type { ConnectOptions } from '../../../src/ssh/connect-options.js';
import { generateKey, tempDir } from './keys.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const plain = generateKey(tmp.dir, 'ed25519', 'plain');
const encrypted = join(tmp.dir, 'encrypted');
copyFileSync(plain.privateFile, encrypted);
execFileSync('ssh-keygen', ['-q', '-p', '-N', 'sesame', '-f', encrypted]);
const garbage = join(tmp.dir, 'garbage');
writeFileSync(garbage, 'not a key\n');

const options = (o: Partial<ConnectOptions>): ConnectOptions => ({
  alias: 'web',
  host: 'h',
  port: 22,
  username: 'deploy',
  agentForward: false,
  readyTimeout: 10_000,
  keepaliveInterval: 15_000,
  hostKeyMode: 'strict',
  knownHostsFiles: [],
  identityFiles: [],
  triedKeys: [],
  warnings: [],
  ...o,
});

/** Drives an auth handler the way ssh2 does until it gives up; returns the methods in order. */
function drain(handler: ReturnType<typeof planAuth>['authHandler'], methodsLeft = ['publickey']): string[] {
  const seen: string[] = [];
  for (let i = 0; i < 10; i++) {
    let next: AnyAuthMethod | false | undefined;
    handler(methodsLeft as never, false, (m) => (next = m as AnyAuthMethod | false));
    if (!next) break;
    seen.push(next.type === 'agent' ? `agent ${String(next.agent)}` : `${next.type}`);
  }
  return seen;
}

describe('loadKeys', () => {
  it('skips keys it cannot open and says why, keeping the usable ones in order', async () => {
    const keys = await loadKeys(options({ identityFiles: [encrypted, garbage, plain.privateFile] }));
    expect(keys.map((k) => [k.label, !!k.key])).toEqual([
      [encrypted, false],
      [garbage, false],
      [plain.privateFile, true],
    ]);
    expect(keys[0]?.skipped).toContain('set SSH_KEY_PASSPHRASE');
    expect(keys[1]?.skipped).toContain('not a usable private key');
  });

  it('opens an encrypted key with the passphrase, or with what the prompt returns', async () => {
    const withEnv = await loadKeys(options({ identityFiles: [encrypted], passphrase: 'sesame' }));
    expect(withEnv[0]?.key).toBeDefined();
    const asked: string[] = [];
    const prompted = await loadKeys(options({ identityFiles: [encrypted] }), async (label) => {
      asked.push(label);
      return 'sesame';
    });
    expect(asked).toEqual([encrypted]);
    expect(prompted[0]?.key).toBeDefined();
  });

  it('uses SSH_PRIVATE_KEY alone when it is set', async () => {
    const { readFileSync } = await import('node:fs');
    const keys = await loadKeys(
      options({ privateKey: readFileSync(plain.privateFile, 'utf8'), identityFiles: [garbage] }),
    );
    expect(keys.map((k) => k.label)).toEqual(['SSH_PRIVATE_KEY']);
    expect(keys[0]?.key).toBeDefined();
  });
});

describe('planAuth', () => {
  it('offers the agent first, then each key, and records what it offered', async () => {
    const keys = await loadKeys(options({ identityFiles: [plain.privateFile, garbage] }));
    const plan = planAuth(options({ agent: '/run/agent.sock' }), keys);
    expect(drain(plan.authHandler)).toEqual(['agent /run/agent.sock', 'publickey']);
    expect(plan.tried).toEqual(['ssh-agent (/run/agent.sock)', `publickey ${plain.privateFile}`]);
    expect(plan.skipped).toEqual([`${garbage}: ${keys[1]!.skipped!}`]);
  });

  it('offers nothing the server does not accept', async () => {
    const keys = await loadKeys(options({ identityFiles: [plain.privateFile] }));
    const plan = planAuth(options({ agent: '/a' }), keys);
    expect(drain(plan.authHandler, ['password'])).toEqual([]);
    expect(plan.tried).toEqual([]);
  });
});
