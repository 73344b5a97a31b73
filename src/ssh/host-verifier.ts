import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DeployError } from '../definitions/errors.js';
import {
  checkHostKey,
  fingerprintSha256,
  formatKnownHostsLine,
  hostKeyName,
  keyTypeOf,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  readKnownHosts,
  type KnownHostEntry,
} from './known-hosts.js';

/**
 * strict: only keys already in known_hosts (OpenSSH `yes`, and `ask` since we never prompt).
 * accept-new: also trust and record a host seen for the first time; a changed key still fails.
 * off: trust any key and record nothing.
 */
export type HostKeyMode = 'strict' | 'accept-new' | 'off';

export interface HostVerifierOptions {
  /** The host's name in deploy.yml, used in messages. */
  alias: string;
  hostname: string;
  port: number;
  mode: HostKeyMode;
  /** Files to trust, user files first; missing ones are skipped. */
  knownHostsFiles: readonly string[];
  /** Where accept-new records a new key (the first UserKnownHostsFile). */
  writeFile?: string;
  /** Read for `SSH_KNOWN_HOSTS`, known_hosts text added to the files (for CI). */
  env?: Readonly<Record<string, string | undefined>>;
}

interface AcceptedKey {
  line: string;
  file?: string;
  /** Set when the line could not be written; the connection still goes ahead, as with ssh. */
  error?: string;
}

export interface HostVerifier {
  /** ssh2's `hostVerifier` (leave `hostHash` unset so it receives the raw key blob). */
  verify(key: Buffer): boolean;
  /** Why verify() refused: throw it once ssh2 reports its generic handshake error. */
  readonly failure?: DeployError<'EHOSTKEY'>;
  /** The key recorded by accept-new, if any. */
  readonly accepted?: AcceptedKey;
  /** For ssh2's `algorithms.serverHostKey`: known key types first, as ssh does. */
  readonly hostKeyAlgorithms?: string[];
}

const REASON = { unknown: 'unknown', mismatch: 'changed', revoked: 'revoked' } as const;

/**
 * Builds the host key check for one connection. known_hosts is read once, here, so verify() is
 * synchronous; ssh2 calls it during the key exchange and again on every re-key.
 *
 * accept-new writes the line from inside verify(), before ssh2 has checked the server's
 * signature. OpenSSH does the same (kex_verify_host_key() runs before sshkey_verify()); a server
 * that cannot sign leaves an unusable line behind but gains no trust.
 */
export function createHostVerifier(options: HostVerifierOptions): HostVerifier {
  const { alias, hostname, port, mode } = options;
  const entries: KnownHostEntry[] =
    mode === 'off' ? [] : readKnownHosts(options.knownHostsFiles, options.env?.SSH_KNOWN_HOSTS);
  const target = { hostname, port };

  const state: {
    failure?: DeployError<'EHOSTKEY'>;
    accepted?: AcceptedKey;
    hostKeyAlgorithms?: string[];
    verify(key: Buffer): boolean;
  } = {
    hostKeyAlgorithms: mode === 'off' ? undefined : preferredHostKeyAlgorithms(entries, target),
    verify(key: Buffer): boolean {
      if (mode === 'off') return true;
      const keyType = keyTypeOf(key) ?? 'unknown';
      const { status } = checkHostKey(entries, target, keyType, key);
      if (status === 'match') return true;
      if (status === 'unknown' && mode === 'accept-new') {
        state.accepted = record(options, keyType, key);
        // Later re-keys present the same key; they must find it without writing it again.
        entries.push(...parseKnownHosts(state.accepted.line, state.accepted.file ?? 'accepted'));
        return true;
      }
      state.failure = new DeployError('EHOSTKEY', {
        host: alias,
        hostname,
        port,
        keyType,
        fingerprint: fingerprintSha256(key),
        reason: REASON[status],
        entryName: hostKeyName(hostname, port),
        ...(options.writeFile ? { knownHostsFile: options.writeFile } : {}),
      });
      return false;
    },
  };
  return state;
}

function record(options: HostVerifierOptions, keyType: string, key: Buffer): AcceptedKey {
  const { hostname, port, writeFile } = options;
  let line: string;
  try {
    line = formatKnownHostsLine(hostname, port, keyType, key);
  } catch (e) {
    return { line: '', error: (e as Error).message };
  }
  if (!writeFile) return { line };
  try {
    mkdirSync(dirname(writeFile), { recursive: true, mode: 0o700 });
    // One append(2) per line keeps parallel connections from interleaving their entries.
    appendFileSync(writeFile, `${needsNewline(writeFile) ? '\n' : ''}${line}\n`, { mode: 0o600 });
    return { line, file: writeFile };
  } catch (e) {
    return { line, file: writeFile, error: (e as Error).message };
  }
}

/** True when the file exists and its last line lacks a newline (hand-edited files often do). */
function needsNewline(file: string): boolean {
  try {
    const text = readFileSync(file);
    return text.length > 0 && text[text.length - 1] !== 0x0a;
  } catch {
    return false;
  }
}
