import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  checkHostKey,
  fingerprintSha256,
  formatKnownHostsLine,
  hashHostName,
  hostFieldMatches,
  hostKeyName,
  keyTypeOf,
  knownKeyTypes,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  readKnownHosts,
} from '../../../src/ssh/known-hosts.js';
import {
  generateKey,
  withoutSshKeygen,
  keygenFinds,
  keygenFingerprint,
  tempDir,
  type TestKey,
} from './keys.js';
import { describeNeeding } from '../../support/requirements.js';

const tmp = tempDir();
let ed: TestKey;
let ed2: TestKey;
let rsa: TestKey;
let ecdsa: TestKey;

beforeAll(() => {
  ed = generateKey(tmp.dir, 'ed25519');
  ed2 = generateKey(tmp.dir, 'ed25519', 'other_ed25519');
  rsa = generateKey(tmp.dir, 'rsa', 'id_rsa', 2048);
  ecdsa = generateKey(tmp.dir, 'ecdsa');
});
afterAll(() => tmp.cleanup());

const line = (hosts: string, k: TestKey, marker = '') =>
  `${marker ? `${marker} ` : ''}${hosts} ${k.keyType} ${k.blob.toString('base64')}`;
const at = (hostname: string, port = 22) => ({ hostname, port });
const check = (text: string, target: { hostname: string; port: number }, k: TestKey) =>
  checkHostKey(parseKnownHosts(text), target, k.keyType, k.blob).status;

describeNeeding(withoutSshKeygen, 'fingerprintSha256', () => {
  it.each(['ed25519', 'rsa', 'ecdsa'])('equals ssh-keygen -lf for a generated %s key', (type) => {
    const k = { ed25519: ed, rsa, ecdsa }[type]!;
    expect(fingerprintSha256(k.blob)).toBe(keygenFingerprint(k.pubFile));
    expect(fingerprintSha256(k.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('reads the key type out of the blob', () => {
    expect(keyTypeOf(ed.blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(rsa.blob)).toBe('ssh-rsa');
    expect(keyTypeOf(ecdsa.blob)).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOf(Buffer.from([0, 0, 0, 9, 0x61]))).toBeUndefined();
    expect(keyTypeOf(Buffer.alloc(2))).toBeUndefined();
  });
});

describeNeeding(withoutSshKeygen, 'parseKnownHosts', () => {
  it('skips comments, blanks and lines OpenSSH would reject, and keeps the rest with positions', () => {
    const text = [
      '# a comment',
      '',
      '   ',
      line('web.example.com,10.0.0.1', ed) + ' a comment after the key',
      '\t' + line('db', rsa),
      line('ca.example.com', ecdsa, '@cert-authority'),
      line('*', ed2, '@revoked'),
      line('x', ed, '@unknown-marker'),
      line('x', ed, '@revoked @cert-authority'),
      'truncated ssh-ed25519',
      `bad ssh-ed25519 !!notbase64!!`,
      `liar ssh-rsa ${ed.blob.toString('base64')}`,
      'legacy 1024 35 1234567',
      line('crlf', ecdsa) + '\r',
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh');
    expect(entries.map((e) => [e.hosts, e.marker, e.keyType, e.line])).toEqual([
      ['web.example.com,10.0.0.1', undefined, 'ssh-ed25519', 4],
      ['db', undefined, 'ssh-rsa', 5],
      ['ca.example.com', 'cert-authority', 'ecdsa-sha2-nistp256', 6],
      ['*', 'revoked', 'ssh-ed25519', 7],
      ['crlf', undefined, 'ecdsa-sha2-nistp256', 14],
    ]);
    expect(entries[0]!.key.equals(ed.blob)).toBe(true);
    expect(entries[0]!.source).toBe('kh');
  });
});

describeNeeding(withoutSshKeygen, 'checkHostKey', () => {
  it('matches a listed key, with several key types per host', () => {
    const text = [line('web', rsa), line('web', ecdsa), line('web', ed)].join('\n');
    for (const k of [rsa, ecdsa, ed]) expect(check(text, at('web'), k)).toBe('match');
  });

  it('reports a different key of the same type as mismatch and names that line', () => {
    const text = [line('web', rsa), line('web', ed2)].join('\n');
    const result = checkHostKey(parseKnownHosts(text), at('web'), ed.keyType, ed.blob);
    expect(result.status).toBe('mismatch');
    expect(result.entry?.line).toBe(2);
  });

  it('reports a host known only under other key types as mismatch, as OpenSSH does', () => {
    expect(check(line('web', rsa), at('web'), ed)).toBe('mismatch');
  });

  it('reports an unknown host as unknown', () => {
    expect(check(line('web', ed), at('db'), ed)).toBe('unknown');
    expect(check('', at('db'), ed)).toBe('unknown');
  });

  it('refuses a revoked key even when it is also listed, and whatever the order', () => {
    expect(check([line('web', ed), line('*', ed, '@revoked')].join('\n'), at('web'), ed)).toBe('revoked');
    expect(check([line('*', ed, '@revoked'), line('web', ed)].join('\n'), at('web'), ed)).toBe('revoked');
    expect(check(line('*', ed, '@revoked'), at('new-host'), ed)).toBe('revoked');
    // A revocation only applies to the hosts its line names.
    expect(check([line('web', ed), line('db', ed, '@revoked')].join('\n'), at('web'), ed)).toBe('match');
    // Revoking one key does not condemn the host's other keys.
    expect(check([line('web', rsa), line('web', ed2, '@revoked')].join('\n'), at('web'), rsa)).toBe('match');
  });

  it('ignores @cert-authority lines when matching', () => {
    expect(check(line('*', ed, '@cert-authority'), at('web'), ed)).toBe('unknown');
  });

  it('matches wildcards, comma lists and negation, case-insensitively', () => {
    const text = line('*.example.com,!db.example.com,10.0.0.?', ed);
    expect(check(text, at('web.example.com'), ed)).toBe('match');
    expect(check(text, at('WEB.Example.COM'), ed)).toBe('match');
    expect(check(line('WEB.Example.com', ed), at('web.example.com'), ed)).toBe('match');
    expect(check(text, at('db.example.com'), ed)).toBe('unknown');
    expect(check(text, at('10.0.0.7'), ed)).toBe('match');
    expect(check(text, at('10.0.0.17'), ed)).toBe('unknown');
    expect(check(text, at('example.com'), ed)).toBe('unknown');
    // A list with only negations matches nothing.
    expect(check(line('!db', ed), at('web'), ed)).toBe('unknown');
  });

  it('uses [host]:port for ports other than 22, wildcards included', () => {
    expect(check(line('[web]:2222', ed), at('web', 2222), ed)).toBe('match');
    expect(check(line('[web]:2222', ed), at('web', 22), ed)).toBe('unknown');
    expect(check(line('[web]:2222', ed), at('web', 2223), ed)).toBe('unknown');
    expect(check(line('[web]:22', ed), at('web', 22), ed)).toBe('unknown');
    expect(check(line('[10.0.0.*]:2222', ed), at('10.0.0.5', 2222), ed)).toBe('match');
    expect(check(line('[web]:2222', ed2), at('web', 2222), ed)).toBe('mismatch');
  });

  it('falls back to the bare host name for other ports, but only for a hit', () => {
    expect(check(line('web', ed), at('web', 2222), ed)).toBe('match');
    expect(check(line('web', ed2), at('web', 2222), ed)).toBe('unknown');
    expect(check([line('[web]:2222', ed2), line('web', ed)].join('\n'), at('web', 2222), ed)).toBe(
      'mismatch',
    );
    expect(check([line('web', ed), line('web', ed, '@revoked')].join('\n'), at('web', 2222), ed)).toBe(
      'revoked',
    );
  });
});

describeNeeding(withoutSshKeygen, 'hashed entries', () => {
  it('match what ssh-keygen -H wrote for [127.0.0.1]:2222 and nothing else', () => {
    const file = join(tmp.dir, 'hashed_known_hosts');
    writeFileSync(file, [line('[127.0.0.1]:2222', ed), line('web.example.com', rsa)].join('\n') + '\n');
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('127.0.0.1');
    expect(text).toMatch(/^\|1\|/);

    expect(check(text, at('127.0.0.1', 2222), ed)).toBe('match');
    expect(check(text, at('127.0.0.1', 2222), ed2)).toBe('mismatch');
    expect(check(text, at('127.0.0.1', 22), ed)).toBe('unknown');
    expect(check(text, at('127.0.0.1', 2223), ed)).toBe('unknown');
    expect(check(text, at('web.example.com'), rsa)).toBe('match');
    expect(check(text, at('WEB.example.com'), rsa)).toBe('match');
  });

  it('hashHostName reproduces ssh-keygen -H for the same salt, and rejects malformed hashes', () => {
    const file = join(tmp.dir, 'hashed_one');
    writeFileSync(file, line('[10.1.2.3]:2200', ed) + '\n');
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const field = readFileSync(file, 'utf8').split(' ')[0]!;
    const salt = Buffer.from(field.split('|')[2]!, 'base64');
    expect(hashHostName('[10.1.2.3]:2200', salt)).toBe(field);
    expect(hostFieldMatches(hashHostName('web'), 'web')).toBe(true);
    expect(hostFieldMatches('|1|c2FsdA==|bWFj', 'web')).toBe(false);
    expect(hostFieldMatches('|2|x|y', 'web')).toBe(false);
  });
});

describeNeeding(withoutSshKeygen, 'formatKnownHostsLine', () => {
  it('writes lines that OpenSSH itself finds, plain on 22 and [host]:port elsewhere', () => {
    const l22 = formatKnownHostsLine('Web.Example.com', 22, ed.keyType, ed.blob);
    const l2222 = formatKnownHostsLine('127.0.0.1', 2222, rsa.keyType, rsa.blob);
    expect(l22).toBe(`web.example.com ${ed.pubLine.split(' ').slice(0, 2).join(' ')}`);
    expect(l2222.startsWith('[127.0.0.1]:2222 ssh-rsa ')).toBe(true);
    const file = join(tmp.dir, 'formatted');
    writeFileSync(file, `${l22}\n${l2222}\n`);
    expect(keygenFinds(file, 'web.example.com')).toBe(true);
    expect(keygenFinds(file, '[127.0.0.1]:2222')).toBe(true);
    expect(keygenFinds(file, '127.0.0.1')).toBe(false);
    expect(check(readFileSync(file, 'utf8'), at('127.0.0.1', 2222), rsa)).toBe('match');
  });

  it('refuses names that would inject lines or patterns, and a type that is not the blob', () => {
    for (const bad of ['a b', 'a,b', 'a\nb', '*', 'web?', '!web', '']) {
      expect(() => formatKnownHostsLine(bad, 22, ed.keyType, ed.blob)).toThrow(/refusing/);
    }
    expect(() => formatKnownHostsLine('web', 22, 'ssh-rsa', ed.blob)).toThrow(/does not match/);
  });

  it('round-trips through parse and check for any port', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 65535 }),
        fc.constantFrom('web', '10.0.0.1', 'a.b-c.example'),
        (port, host) => {
          const text = formatKnownHostsLine(host, port, ed.keyType, ed.blob);
          expect(check(text, at(host, port), ed)).toBe('match');
          expect(hostKeyName(host, port)).toBe(port === 22 ? host : `[${host}]:${port}`);
        },
      ),
    );
  });
});

describeNeeding(withoutSshKeygen, 'readKnownHosts', () => {
  it('reads the files that exist, then the extra text', () => {
    const a = join(tmp.dir, 'kh_a');
    writeFileSync(a, line('web', ed) + '\n');
    const entries = readKnownHosts([join(tmp.dir, 'missing'), a, join(a, 'not-a-dir')], line('ci', rsa));
    expect(entries.map((e) => [e.hosts, e.source])).toEqual([
      ['web', a],
      ['ci', 'SSH_KNOWN_HOSTS'],
    ]);
  });

  it('throws on a file that exists but cannot be read', () => {
    expect(() => readKnownHosts([tmp.dir])).toThrow(/EISDIR/);
  });
});

describeNeeding(withoutSshKeygen, 'preferredHostKeyAlgorithms', () => {
  it('puts the known key types first and keeps the rest of ssh2 defaults', () => {
    const entries = parseKnownHosts([line('web', rsa), line('*', ed, '@revoked')].join('\n'));
    expect(knownKeyTypes(entries, at('web'))).toEqual(['ssh-rsa']);
    const algs = preferredHostKeyAlgorithms(entries, at('web'));
    expect(algs?.slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(algs).toContain('ssh-ed25519');
    expect(new Set(algs).size).toBe(algs?.length);
  });

  it('also counts keys recorded under the bare name for another port, and is undefined when none', () => {
    const entries = parseKnownHosts(line('web', ecdsa));
    expect(preferredHostKeyAlgorithms(entries, at('web', 2222))?.[0]).toBe('ecdsa-sha2-nistp256');
    expect(preferredHostKeyAlgorithms(entries, at('db'))).toBeUndefined();
  });
});
