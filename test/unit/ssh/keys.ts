import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const installed = (tool: string) => existsSync(`/usr/bin/${tool}`) || existsSync(`/usr/local/bin/${tool}`);

/** What these tests lack, for describeNeeding (test/support/requirements.ts); undefined when present. */
export const withoutSshKeygen = installed('ssh-keygen')
  ? undefined
  : 'ssh-keygen (openssh-client) is not installed';
export const withoutSsh = installed('ssh') ? undefined : 'ssh (openssh-client) is not installed';

export interface TestKey {
  type: string;
  /** The .pub line's key type field, e.g. ssh-ed25519. */
  keyType: string;
  blob: Buffer;
  pubLine: string;
  privateFile: string;
  pubFile: string;
}

export function tempDir(prefix = 'shipshape-ssh-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A real key pair from ssh-keygen; `type` is what -t takes (ed25519, rsa, ecdsa). */
export function generateKey(dir: string, type: string, name = `id_${type}`, bits?: number): TestKey {
  const privateFile = join(dir, name);
  const args = ['-q', '-t', type, '-N', '', '-C', `test-${name}`, '-f', privateFile];
  if (bits) args.push('-b', String(bits));
  execFileSync('ssh-keygen', args);
  const pubLine = readFileSync(`${privateFile}.pub`, 'utf8').trim();
  const [keyType = '', key64 = ''] = pubLine.split(' ');
  return {
    type,
    keyType,
    blob: Buffer.from(key64, 'base64'),
    pubLine,
    privateFile,
    pubFile: `${privateFile}.pub`,
  };
}

/** The SHA256 field of `ssh-keygen -lf file`. */
export function keygenFingerprint(file: string): string {
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' });
  const fp = out.split(/\s+/)[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen output: ${out}`);
  return fp;
}

/** `ssh-keygen -F name -f file`: does OpenSSH itself find `name` in the file? */
export function keygenFinds(file: string, name: string): boolean {
  try {
    return execFileSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' }).includes('found');
  } catch {
    return false;
  }
}
