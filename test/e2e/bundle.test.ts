import fs from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE = path.join(ROOT, 'dist/bin/cli.cjs');

/** Where a require lands, or the code of its failure: the same outcome is the same file, or none. */
const outcome = (from: string, request: string): string => {
  try {
    return createRequire(from).resolve(request);
  } catch (e) {
    return `(${(e as NodeJS.ErrnoException).code})`;
  }
};

/** The built bundle (scripts/bundle.mjs, which `npm ci` runs): what it leaves to be required at run time. */
describe("the bin's bundle", () => {
  const source = fs.readFileSync(BUNDLE, 'utf8');
  const builtin = new Set(builtinModules);
  const outside = [...new Set([...source.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!))].filter(
    (r) => !r.startsWith('node:') && !builtin.has(r),
  );

  it('holds ssh2 (covered by the code cache); only the AWS SDK and ssh2’s native addons stay outside', () => {
    expect(outside.sort()).toEqual([
      '@aws-sdk/client-s3',
      '@aws-sdk/s3-request-presigner',
      'cpu-features',
      'ssh2/lib/protocol/crypto/build/Release/sshcrypto.node',
    ]);
  });

  it('requires ssh2’s crypto addon and cpu-features as ssh2 itself would find them', () => {
    const ssh2Crypto = createRequire(import.meta.url).resolve('ssh2/lib/protocol/crypto.js');
    const ssh2Constants = createRequire(import.meta.url).resolve('ssh2/lib/protocol/constants.js');
    expect(outcome(BUNDLE, 'ssh2/lib/protocol/crypto/build/Release/sshcrypto.node')).toBe(
      outcome(ssh2Crypto, './crypto/build/Release/sshcrypto.node'),
    );
    expect(outcome(BUNDLE, 'cpu-features')).toBe(outcome(ssh2Constants, 'cpu-features'));
  });

  it('is ASCII only, so that Node reads it as a one-byte string (a two-byte one cost every start)', () => {
    const lines = source
      .split('\n')
      .flatMap((l, i) => (/[^\x00-\x7f]/.test(l) ? [`${i + 1}: ${l.trim()}`] : []));
    expect(lines).toEqual([]);
  });
});
