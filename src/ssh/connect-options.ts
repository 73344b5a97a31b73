import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { DeployError } from '../definitions/errors.js';
import type { HostKeyMode } from './host-verifier.js';
import { expandTilde, resolveSshConfig, type SshConfigValues } from './ssh-config.js';

/** The SSH settings of one host in deploy.yml; all optional, they override ~/.ssh/config. */
export interface HostSshSettings {
  hostname?: string;
  user?: string;
  port?: number;
  identity_file?: string;
  /** Our names, or OpenSSH's StrictHostKeyChecking words. */
  host_key_checking?: HostKeyMode | 'yes' | 'no' | 'ask';
  known_hosts_file?: string;
  /** `bastion` or `a,b` or a list, as ProxyJump. */
  proxy_jump?: string | string[];
  forward_agent?: boolean;
  /** Seconds. */
  connect_timeout?: number;
}

export interface ConnectContext {
  /** ~/.ssh/config text (see loadSshConfig); absent means no ssh config. */
  sshConfigText?: string;
  env: Readonly<Record<string, string | undefined>>;
  homedir: string;
  /** Defaults to the login name of this process, like ssh. */
  localUser?: string;
}

/** Everything needed to open one connection; maps onto ssh2 options plus host key policy. */
export interface ConnectOptions {
  alias: string;
  host: string;
  port: number;
  username: string;
  /** At most one of privateKey / privateKeyPath is set: the key that is offered first. */
  privateKey?: string;
  privateKeyPath?: string;
  passphrase?: string;
  agent?: string;
  agentForward: boolean;
  /** Milliseconds. */
  readyTimeout: number;
  /** Milliseconds; 0 disables. */
  keepaliveInterval: number;
  hostKeyMode: HostKeyMode;
  /** User files first, then the global ones. */
  knownHostsFiles: string[];
  /** Where accept-new records keys; undefined for `UserKnownHostsFile none`. */
  userKnownHostsFile?: string;
  proxyJump?: string[];
  /** Usable identity files in the order ssh would try them; privateKeyPath is the first. */
  identityFiles: string[];
  /** What will be offered, for EAUTH messages: key file (with `~`), `SSH_PRIVATE_KEY`, `ssh-agent`. */
  triedKeys: string[];
  /** Settings a person must hear about on every run: host keys not checked, a ProxyCommand ignored. */
  warnings: string[];
}

/** deploy.yml documents connect_timeout as "default 10" (seconds). */
const DEFAULT_READY_TIMEOUT_MS = 10_000;
/**
 * OpenSSH sends no keepalives by default. A deploy step can stay silent for minutes (composer,
 * asset builds) and NAT boxes drop idle flows; keepalives keep the flow open and let ssh2 notice a
 * dead peer (3 missed = ECONNLOST) instead of waiting forever.
 */
const DEFAULT_KEEPALIVE_MS = 15_000;

/**
 * OpenSSH 9.2's default IdentityFile list, in its order (ssh_config(5); readconf.c
 * fill_default_options()). The `_sk` keys are left out: they need a FIDO authenticator, which
 * ssh2 cannot drive. Only files that exist are used.
 */
const DEFAULT_IDENTITY_FILES = ['id_rsa', 'id_ecdsa', 'id_ed25519', 'id_dsa'] as const;

const HOST_KEY_MODES: Record<string, HostKeyMode> = {
  strict: 'strict',
  'accept-new': 'accept-new',
  off: 'off',
  yes: 'strict',
  // We never prompt, so ask behaves as ssh does in BatchMode: unknown keys are refused.
  ask: 'strict',
  no: 'off',
};

/**
 * Combines deploy.yml, ~/.ssh/config and defaults for one host, in that order of precedence;
 * the environment supplies CI credentials (SSH_PRIVATE_KEY, SSH_KEY_PASSPHRASE, SSH_AUTH_SOCK).
 * Throws EKEYFILE when deploy.yml names an identity_file that does not exist.
 */
export function resolveConnectOptions(
  alias: string,
  host: HostSshSettings,
  context: ConnectContext,
): ConnectOptions {
  const { env, homedir } = context;
  const localUser = context.localUser ?? currentUser(env);
  const cfg: SshConfigValues = resolveSshConfig(alias, context.sshConfigText ?? '', {
    homedir,
    localUser,
    hostname: host.hostname,
    user: host.user,
    port: host.port,
  });

  const envKey = normalizePrivateKey(env.SSH_PRIVATE_KEY);
  const identityFiles = chooseIdentityFiles(alias, host, cfg, homedir, envKey !== undefined);
  const privateKeyPath = envKey === undefined ? identityFiles[0] : undefined;
  const hasKey = envKey !== undefined || privateKeyPath !== undefined;
  // ssh2 cannot restrict the agent to the listed identities, so IdentitiesOnly drops the agent
  // when we hold a key ourselves, and keeps it when the agent is the only way in.
  const agent = cfg.identitiesOnly && hasKey ? undefined : agentSocket(cfg, env);

  const userFiles = host.known_hosts_file
    ? [expandTilde(host.known_hosts_file, homedir)]
    : (cfg.userKnownHostsFiles ?? [
        join(homedir, '.ssh', 'known_hosts'),
        join(homedir, '.ssh', 'known_hosts2'),
      ]);
  const globalFiles = cfg.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];

  const timeout = host.connect_timeout ?? cfg.connectTimeout;
  const jumps = host.proxy_jump ?? cfg.proxyJump;
  const proxyJump = (typeof jumps === 'string' ? jumps.split(',') : jumps)
    ?.map((j) => j.trim())
    .filter((j) => j !== '' && j.toLowerCase() !== 'none');
  const tilde = (p: string) => (p.startsWith(`${homedir}/`) ? `~${p.slice(homedir.length)}` : p);
  const hostKeyMode = hostKeyModeOf(host.host_key_checking ?? cfg.strictHostKeyChecking);
  const warnings: string[] = [];
  if (hostKeyMode === 'off') {
    const where =
      host.host_key_checking !== undefined
        ? `host_key_checking: ${host.host_key_checking} in deploy.yml`
        : `StrictHostKeyChecking ${cfg.strictHostKeyChecking ?? 'no'} in the ssh config`;
    warnings.push(
      `host key checking is off for ${alias} (${where}): any server, or anyone on the way to it, can pose as it and receive the deploy; remove the setting and record its key (docs/ssh.md)`,
    );
  }
  // OpenSSH takes whichever of ProxyJump and ProxyCommand comes first; we can only follow a jump.
  if (cfg.proxyCommand !== undefined && !proxyJump?.length) {
    warnings.push(
      `ProxyCommand in the ssh config is ignored for ${alias}: shipshape connects to ${host.hostname ?? cfg.hostName ?? alias} directly; for a bastion use ProxyJump, or proxy_jump in deploy.yml`,
    );
  }

  return {
    alias,
    host: host.hostname ?? cfg.hostName ?? alias,
    port: host.port ?? cfg.port ?? 22,
    username: host.user ?? cfg.user ?? localUser,
    ...(envKey !== undefined ? { privateKey: envKey } : {}),
    ...(privateKeyPath !== undefined ? { privateKeyPath } : {}),
    ...(env.SSH_KEY_PASSPHRASE ? { passphrase: env.SSH_KEY_PASSPHRASE } : {}),
    ...(agent !== undefined ? { agent } : {}),
    agentForward: agent !== undefined && (host.forward_agent ?? cfg.forwardAgent ?? false),
    readyTimeout: timeout && timeout > 0 ? timeout * 1000 : DEFAULT_READY_TIMEOUT_MS,
    keepaliveInterval:
      cfg.serverAliveInterval !== undefined ? cfg.serverAliveInterval * 1000 : DEFAULT_KEEPALIVE_MS,
    hostKeyMode,
    knownHostsFiles: [...userFiles, ...globalFiles],
    ...(userFiles[0] !== undefined ? { userKnownHostsFile: userFiles[0] } : {}),
    ...(proxyJump && proxyJump.length > 0 ? { proxyJump } : {}),
    identityFiles,
    triedKeys: [
      ...(envKey !== undefined ? ['SSH_PRIVATE_KEY'] : privateKeyPath ? [tilde(privateKeyPath)] : []),
      ...(agent !== undefined ? ['ssh-agent'] : []),
    ],
    warnings,
  };
}

/** OpenSSH's StrictHostKeyChecking (or our own word) as a mode; unset means strict. */
export function hostKeyModeOf(value: string | undefined): HostKeyMode {
  return (value && HOST_KEY_MODES[value.toLowerCase()]) || 'strict';
}

/**
 * deploy.yml's identity_file alone if set (it must exist unless SSH_PRIVATE_KEY stands in),
 * else every IdentityFile from ssh config, else OpenSSH's defaults; only existing files count.
 * A `.pub` file names a key held by the agent, so it is not a private key to load.
 */
function chooseIdentityFiles(
  alias: string,
  host: HostSshSettings,
  cfg: SshConfigValues,
  homedir: string,
  haveEnvKey: boolean,
): string[] {
  if (host.identity_file) {
    const file = expandTilde(host.identity_file, homedir);
    if (isFile(file)) return [file];
    if (haveEnvKey) return [];
    throw new DeployError('EKEYFILE', { host: alias, file, reason: 'does not exist or is not a file' });
  }
  const candidates =
    cfg.identityFiles.length > 0
      ? cfg.identityFiles
      : DEFAULT_IDENTITY_FILES.map((name) => join(homedir, '.ssh', name));
  return candidates.filter((f) => !f.endsWith('.pub') && isFile(f));
}

function agentSocket(cfg: SshConfigValues, env: ConnectContext['env']): string | undefined {
  const configured = cfg.identityAgent;
  if (configured?.toLowerCase() === 'none') return undefined;
  if (configured !== undefined && configured !== 'SSH_AUTH_SOCK') return configured;
  return env.SSH_AUTH_SOCK || undefined;
}

/**
 * CI secrets arrive mangled in a few well-known ways: CRLF line ends, `\n` typed literally,
 * the trailing newline lost (which OpenSSH-format parsers reject), or the whole key base64-ed.
 */
export function normalizePrivateKey(raw: string | undefined): string | undefined {
  let key = raw?.trim();
  if (!key) return undefined;
  if (!key.includes('-----BEGIN') && /^[A-Za-z0-9+/=\s]+$/.test(key)) {
    const decoded = Buffer.from(key, 'base64').toString('utf8').trim();
    if (decoded.includes('-----BEGIN')) key = decoded;
  }
  key = key.replace(/\r\n?/g, '\n');
  if (!key.includes('\n') && key.includes('\\n')) key = key.replace(/\\n/g, '\n');
  return `${key}\n`;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function currentUser(env: ConnectContext['env']): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? '';
  }
}
