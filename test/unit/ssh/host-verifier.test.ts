import { once } from 'node:events';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DeployError } from '../../../src/definitions/errors.js';
import { createHostVerifier, type HostVerifierOptions } from '../../../src/ssh/host-verifier.js';
import { fingerprintSha256 } from '../../../src/ssh/known-hosts.js';
import { generateKey, withoutSshKeygen, keygenFinds, tempDir, type TestKey } from './keys.js';
import { describeNeeding } from '../../support/requirements.js';

const tmp = tempDir();
let ed: TestKey;
let ed2: TestKey;
let rsa: TestKey;
let n = 0;

beforeAll(() => {
  ed = generateKey(tmp.dir, 'ed25519');
  ed2 = generateKey(tmp.dir, 'ed25519', 'other');
  rsa = generateKey(tmp.dir, 'rsa', 'id_rsa', 2048);
});
afterAll(() => tmp.cleanup());

const line = (hosts: string, k: TestKey, marker = '') =>
  `${marker ? `${marker} ` : ''}${hosts} ${k.keyType} ${k.blob.toString('base64')}`;

function knownHosts(...lines: string[]): string {
  const file = join(tmp.dir, `known_hosts_${++n}`);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

/**
 * Connects ssh2's client, with `hostVerifier` as the shipshape transport sets it (no `hostHash`),
 * to an in-process ssh2 server that presents `hostKey` and lets anyone in: 'ready', or the
 * client's error message.
 */
async function handshake(hostKey: TestKey, hostVerifier: (key: Buffer) => boolean): Promise<string> {
  const server = new ssh2.Server({ hostKeys: [readFileSync(hostKey.privateFile)] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => ctx.accept());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const client = new ssh2.Client();
  try {
    return await new Promise<string>((resolve) => {
      client.once('ready', () => resolve('ready'));
      client.once('error', (e) => resolve(e.message));
      client.connect({ host: '127.0.0.1', port, username: 'test', hostVerifier });
    });
  } finally {
    client.end();
    server.close();
  }
}

const options = (over: Partial<HostVerifierOptions>): HostVerifierOptions => ({
  alias: 'web',
  hostname: '127.0.0.1',
  port: 2222,
  mode: 'strict',
  knownHostsFiles: [],
  env: {},
  ...over,
});

describeNeeding(withoutSshKeygen, 'createHostVerifier', () => {
  it('plugs into ssh2 as a synchronous hostVerifier: a real handshake goes ahead or is refused', async () => {
    const known = knownHosts(line('[127.0.0.1]:2222', ed));
    const accepted = createHostVerifier(options({ knownHostsFiles: [known] }));
    expect(await handshake(ed, accepted.verify)).toBe('ready');
    const refused = createHostVerifier(options({ knownHostsFiles: [known] }));
    expect(await handshake(ed2, refused.verify)).toMatch(/verification failed/);
    expect(refused.failure?.details.reason).toBe('changed');
  });

  it('strict: accepts a known key', () => {
    const v = createHostVerifier(options({ knownHostsFiles: [knownHosts(line('[127.0.0.1]:2222', ed))] }));
    expect(v.verify(ed.blob)).toBe(true);
    expect(v.failure).toBeUndefined();
  });

  it('strict: refuses an unknown host and records EHOSTKEY with the fingerprint', () => {
    const v = createHostVerifier(options({ knownHostsFiles: [join(tmp.dir, 'missing')] }));
    expect(v.verify(ed.blob)).toBe(false);
    expect(v.failure).toBeInstanceOf(DeployError);
    expect(v.failure?.code).toBe('EHOSTKEY');
    expect(v.failure?.details).toMatchObject({
      host: 'web',
      hostname: '127.0.0.1',
      port: 2222,
      reason: 'unknown',
      keyType: 'ssh-ed25519',
      fingerprint: fingerprintSha256(ed.blob),
    });
    expect(v.failure?.message).toBe(
      `web: unknown host key for 127.0.0.1 port 2222: ssh-ed25519 ${fingerprintSha256(ed.blob)}`,
    );
    expect(v.failure?.hint).toContain('ssh-keyscan -p 2222 127.0.0.1');
  });

  it('strict: refuses a changed key, including one known only under another type', () => {
    const same = createHostVerifier(
      options({ knownHostsFiles: [knownHosts(line('[127.0.0.1]:2222', ed2))] }),
    );
    expect(same.verify(ed.blob)).toBe(false);
    expect(same.failure?.details.reason).toBe('changed');
    const other = createHostVerifier(
      options({ knownHostsFiles: [knownHosts(line('[127.0.0.1]:2222', rsa))] }),
    );
    expect(other.verify(ed.blob)).toBe(false);
    expect(other.failure?.details.reason).toBe('changed');
  });

  it('refuses a revoked key in every mode but off', () => {
    const file = knownHosts(line('[127.0.0.1]:2222', ed), line('*', ed, '@revoked'));
    for (const mode of ['strict', 'accept-new'] as const) {
      const v = createHostVerifier(options({ mode, knownHostsFiles: [file], writeFile: file }));
      expect(v.verify(ed.blob)).toBe(false);
      expect(v.failure?.details.reason).toBe('revoked');
    }
    expect(createHostVerifier(options({ mode: 'off', knownHostsFiles: [file] })).verify(ed.blob)).toBe(true);
  });

  it('reads SSH_KNOWN_HOSTS from env as well as the files', () => {
    const v = createHostVerifier(options({ env: { SSH_KNOWN_HOSTS: line('[127.0.0.1]:2222', ed) } }));
    expect(v.verify(ed.blob)).toBe(true);
  });

  it('accept-new: trusts and records a new host once, in a file OpenSSH reads', () => {
    const writeFile = join(tmp.dir, `fresh-${++n}`, '.ssh', 'known_hosts');
    const v = createHostVerifier(options({ mode: 'accept-new', knownHostsFiles: [writeFile], writeFile }));
    expect(v.verify(ed.blob)).toBe(true);
    // ssh2 verifies again on every re-key; the key must not be appended twice.
    expect(v.verify(ed.blob)).toBe(true);
    const text = readFileSync(writeFile, 'utf8');
    expect(text).toBe(`[127.0.0.1]:2222 ${ed.keyType} ${ed.blob.toString('base64')}\n`);
    expect(v.accepted).toEqual({ line: text.trim(), file: writeFile });
    expect(statSync(writeFile).mode & 0o777).toBe(0o600);
    expect(keygenFinds(writeFile, '[127.0.0.1]:2222')).toBe(true);
    // A later connection trusts it under strict checking.
    expect(createHostVerifier(options({ knownHostsFiles: [writeFile] })).verify(ed.blob)).toBe(true);
  });

  it('accept-new: still refuses a changed key and writes nothing', () => {
    const file = knownHosts(line('[127.0.0.1]:2222', ed2));
    const before = readFileSync(file, 'utf8');
    const v = createHostVerifier(options({ mode: 'accept-new', knownHostsFiles: [file], writeFile: file }));
    expect(v.verify(ed.blob)).toBe(false);
    expect(v.failure?.details.reason).toBe('changed');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('accept-new: starts a new line when the file lacks a final newline', () => {
    const file = join(tmp.dir, `no-newline-${++n}`);
    writeFileSync(file, line('other', rsa));
    const v = createHostVerifier(options({ mode: 'accept-new', knownHostsFiles: [file], writeFile: file }));
    expect(v.verify(ed.blob)).toBe(true);
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(3);
    expect(keygenFinds(file, 'other')).toBe(true);
    expect(keygenFinds(file, '[127.0.0.1]:2222')).toBe(true);
  });

  it('accept-new: connects even if the line cannot be written, and says why', () => {
    const blocker = knownHosts();
    const writeFile = join(blocker, 'known_hosts');
    const v = createHostVerifier(options({ mode: 'accept-new', knownHostsFiles: [], writeFile }));
    expect(v.verify(ed.blob)).toBe(true);
    expect(v.accepted?.error).toMatch(/EEXIST|ENOTDIR/);
  });

  it('off: trusts anything, writes nothing and leaves ssh2 defaults alone', () => {
    const writeFile = join(tmp.dir, `off-${++n}`);
    const v = createHostVerifier(options({ mode: 'off', knownHostsFiles: [], writeFile }));
    expect(v.verify(ed.blob)).toBe(true);
    expect(v.accepted).toBeUndefined();
    expect(v.hostKeyAlgorithms).toBeUndefined();
    expect(() => statSync(writeFile)).toThrow();
  });

  it('offers the known key type first', () => {
    const v = createHostVerifier(options({ knownHostsFiles: [knownHosts(line('[127.0.0.1]:2222', rsa))] }));
    expect(v.hostKeyAlgorithms?.[0]).toBe('rsa-sha2-512');
  });
});
