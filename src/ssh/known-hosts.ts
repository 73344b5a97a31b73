import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DeployError } from '../definitions/errors.js';
import { matchPatternList } from './patterns.js';

/**
 * known_hosts in OpenSSH's own terms (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT", hostfile.c):
 * `[@marker] hosts keytype base64 [comment]`, where hosts is a comma-separated pattern list
 * or one hashed name `|1|salt|hmac`.
 */
export interface KnownHostEntry {
  /** `@cert-authority` lines are kept but never match: ssh2 does not negotiate host certificates. */
  marker?: 'revoked' | 'cert-authority';
  /** The host field exactly as written: patterns, or a hashed `|1|…|…` name. */
  hosts: string;
  keyType: string;
  key: Buffer;
  /** File path (or `SSH_KNOWN_HOSTS`) and 1-based line, for messages. */
  source: string;
  line: number;
}

export interface HostTarget {
  hostname: string;
  port: number;
}

type HostKeyStatus = 'match' | 'mismatch' | 'unknown' | 'revoked';

export interface HostKeyCheck {
  status: HostKeyStatus;
  /** The line that matched, or for 'mismatch' the offending line (OpenSSH's "Offending key"). */
  entry?: KnownHostEntry;
}

const DEFAULT_PORT = 22;
const HASH_MAGIC = '|1|';
const SHA1_BYTES = 20;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** What `ssh-keygen -lf` prints as the fingerprint: `SHA256:` + unpadded base64 of the blob's digest. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH wire-format public key (uint32 length + name), or undefined. */
export function keyTypeOf(keyBlob: Buffer): string | undefined {
  if (keyBlob.length < 4) return undefined;
  const len = keyBlob.readUInt32BE(0);
  if (len === 0 || len > 64 || keyBlob.length < 4 + len) return undefined;
  const name = keyBlob.toString('latin1', 4, 4 + len);
  return /^[\x21-\x7e]+$/.test(name) ? name : undefined;
}

/** The name OpenSSH looks up: lowercase host, `[host]:port` unless the port is 22 (put_host_port()). */
export function hostKeyName(hostname: string, port: number = DEFAULT_PORT): string {
  const host = hostname.toLowerCase();
  return port === DEFAULT_PORT || port === 0 ? host : `[${host}]:${port}`;
}

/** `|1|salt|hmac` for a name, as `ssh-keygen -H` writes it; a fresh salt unless one is given. */
export function hashHostName(name: string, salt: Buffer = randomBytes(SHA1_BYTES)): string {
  const mac = createHmac('sha1', salt).update(name).digest();
  return `${HASH_MAGIC}${salt.toString('base64')}|${mac.toString('base64')}`;
}

/** Does a known_hosts host field name this lookup name? Hashed fields are compared by HMAC. */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|')) return hashedFieldMatches(hosts, name);
  return matchPatternList(name, hosts, { ignoreCase: true }) === 'match';
}

function hashedFieldMatches(field: string, name: string): boolean {
  if (!field.startsWith(HASH_MAGIC)) return false;
  const [salt64, mac64, ...rest] = field.slice(HASH_MAGIC.length).split('|');
  if (salt64 === undefined || mac64 === undefined || rest.length > 0) return false;
  if (!BASE64.test(salt64) || !BASE64.test(mac64)) return false;
  const salt = Buffer.from(salt64, 'base64');
  const mac = Buffer.from(mac64, 'base64');
  if (salt.length !== SHA1_BYTES || mac.length !== SHA1_BYTES) return false;
  return timingSafeEqual(createHmac('sha1', salt).update(name).digest(), mac);
}

/**
 * Parses known_hosts text. Lines OpenSSH would skip are skipped too: comments, blanks, unknown
 * or repeated markers, legacy SSH-1 `bits e n` keys, bad base64, and keys whose blob names a
 * different type than the line does.
 */
export function parseKnownHosts(text: string, source = 'known_hosts'): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const entry = parseLine(raw, source, i + 1);
    if (entry) entries.push(entry);
  });
  return entries;
}

function parseLine(raw: string, source: string, line: number): KnownHostEntry | undefined {
  const fields = raw.trim().split(/[ \t]+/);
  if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return undefined;
  let marker: KnownHostEntry['marker'];
  if (fields[0].startsWith('@')) {
    const word = fields.shift();
    if (word === '@revoked') marker = 'revoked';
    else if (word === '@cert-authority') marker = 'cert-authority';
    else return undefined;
  }
  const [hosts, keyType, key64] = fields;
  if (!hosts || !keyType || !key64 || hosts.startsWith('@') || !BASE64.test(key64)) return undefined;
  const key = Buffer.from(key64, 'base64');
  if (keyTypeOf(key) !== keyType) return undefined;
  return { marker, hosts, keyType, key, source, line };
}

/**
 * Verifies a presented host key the way OpenSSH's check_host_key() does:
 * - 'match' when a plain line for the host carries this very key;
 * - 'revoked' when an `@revoked` line for the host carries it, even if it is also listed;
 * - 'mismatch' when the host is known with other keys only, whatever their type. OpenSSH 9.2
 *   says "REMOTE HOST IDENTIFICATION HAS CHANGED" here even if the only known key is of another
 *   type (checked against a real sshd); it avoids that case in practice by preferring known key
 *   types in the key exchange, see preferredHostKeyAlgorithms();
 * - 'unknown' when no line names the host.
 * For a port other than 22 OpenSSH also accepts a key recorded under the bare host name; only a
 * hit counts there (a different key under the bare name leaves the answer 'unknown'), except
 * that a revocation under the bare name is honoured too, which is stricter than OpenSSH.
 * Keys are compared as whole blobs; `keyType` only picks which offending line to report.
 */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  target: HostTarget,
  keyType: string,
  keyBlob: Buffer,
): HostKeyCheck {
  const exact = checkName(entries, hostKeyName(target.hostname, target.port), keyType, keyBlob);
  if (exact.status !== 'unknown' || target.port === DEFAULT_PORT || target.port === 0) return exact;
  const bare = checkName(entries, hostKeyName(target.hostname, DEFAULT_PORT), keyType, keyBlob);
  return bare.status === 'match' || bare.status === 'revoked' ? bare : exact;
}

function checkName(
  entries: readonly KnownHostEntry[],
  name: string,
  keyType: string,
  keyBlob: Buffer,
): HostKeyCheck {
  let matched: KnownHostEntry | undefined;
  let offending: KnownHostEntry | undefined;
  for (const e of entries) {
    if (e.marker === 'cert-authority' || !hostFieldMatches(e.hosts, name)) continue;
    if (e.marker === 'revoked') {
      if (e.key.equals(keyBlob)) return { status: 'revoked', entry: e };
    } else if (e.key.equals(keyBlob)) {
      matched ??= e;
    } else if (!offending || (offending.keyType !== keyType && e.keyType === keyType)) {
      // Name the key of the presented type when there is one: that is the one that changed.
      offending = e;
    }
  }
  if (matched) return { status: 'match', entry: matched };
  return offending ? { status: 'mismatch', entry: offending } : { status: 'unknown' };
}

/** Key types recorded for the host (plain lines only), in file order, without duplicates. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], target: HostTarget): string[] {
  const names = [hostKeyName(target.hostname, target.port)];
  if (target.port !== DEFAULT_PORT && target.port !== 0) names.push(hostKeyName(target.hostname));
  const types = entries
    .filter((e) => e.marker === undefined && names.some((n) => hostFieldMatches(e.hosts, n)))
    .map((e) => e.keyType);
  return [...new Set(types)];
}

/**
 * ssh2's default host key algorithms, most preferred first (ssh2 1.17, lib/protocol/constants.js;
 * ssh-dss is supported but off by default). Listed here because ssh2's `prepend` option does not
 * move an algorithm that is already in the list, so reordering needs the whole list.
 */
const SSH2_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];
const keyTypeOfAlgorithm = (alg: string): string => (alg.startsWith('rsa-sha2-') ? 'ssh-rsa' : alg);

/**
 * The host key algorithms to offer, known types first, like OpenSSH's order_hostkeyalgs().
 * Without it ssh2 would ask an ed25519+rsa server for ed25519 while known_hosts holds its rsa
 * key, and the check would report a changed key. Undefined when nothing is known (keep defaults).
 */
export function preferredHostKeyAlgorithms(
  entries: readonly KnownHostEntry[],
  target: HostTarget,
): string[] | undefined {
  const known = new Set(knownKeyTypes(entries, target));
  const algorithms = [...SSH2_HOST_KEY_ALGORITHMS];
  if (known.has('ssh-dss')) algorithms.push('ssh-dss');
  const first = algorithms.filter((a) => known.has(keyTypeOfAlgorithm(a)));
  if (first.length === 0) return undefined;
  return [...first, ...algorithms.filter((a) => !first.includes(a))];
}

/** One known_hosts line as `ssh` writes it on accept-new: lowercase host, `[host]:port` off 22. */
export function formatKnownHostsLine(
  hostname: string,
  port: number,
  keyType: string,
  keyBlob: Buffer,
): string {
  // A space, comma or newline would split the line or smuggle in another entry; `*?!` would
  // turn the name into a pattern that vouches for other hosts.
  if (!/^[^\s,#|@[\]*?!]+$/.test(hostname)) {
    throw new Error(`refusing to write a known_hosts line for host name ${JSON.stringify(hostname)}`);
  }
  if (keyTypeOf(keyBlob) !== keyType) {
    throw new Error(`key type ${keyType} does not match the key blob (${String(keyTypeOf(keyBlob))})`);
  }
  return `${hostKeyName(hostname, port)} ${keyType} ${keyBlob.toString('base64')}`;
}

/** OpenSSH's defaults for UserKnownHostsFile and GlobalKnownHostsFile, user files first. */
function defaultKnownHostsFiles(home: string = homedir()): string[] {
  return [
    join(home, '.ssh', 'known_hosts'),
    join(home, '.ssh', 'known_hosts2'),
    '/etc/ssh/ssh_known_hosts',
    '/etc/ssh/ssh_known_hosts2',
  ];
}

const UNREADABLE: Record<string, string> = {
  EISDIR: 'it is a directory (EISDIR)',
  EACCES: 'permission denied (EACCES)',
};

/**
 * Reads the files that exist, then `extraText` (the `SSH_KNOWN_HOSTS` variable in CI, where no
 * home directory survives between runs). A missing file is no error; an unreadable one is
 * EKNOWNHOSTS: trusting nothing would refuse every key, and skipping it would trust too little.
 */
export function readKnownHosts(
  files: readonly string[] = defaultKnownHostsFiles(),
  extraText?: string,
): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new DeployError('EKNOWNHOSTS', {
        file,
        reason: (code && UNREADABLE[code]) ?? code ?? (e as Error).message,
      });
    }
    entries.push(...parseKnownHosts(text, file));
  }
  if (extraText) entries.push(...parseKnownHosts(extraText, 'SSH_KNOWN_HOSTS'));
  return entries;
}
