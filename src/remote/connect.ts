import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import type { Config, HostConfig } from '../config/schema.js';
import type { Mask } from '../config/secrets.js';
import { ciProviderOf, createSanitiser } from '../definitions/sanitise.js';
import { DeployError } from '../definitions/errors.js';
import { loadKeys, planAuth, type PassphrasePrompt } from '../ssh/auth.js';
import {
  resolveConnectOptions,
  type ConnectContext,
  type ConnectOptions,
  type HostSshSettings,
} from '../ssh/connect-options.js';
import { createHostVerifier } from '../ssh/host-verifier.js';
import { parseJump } from '../ssh/jump.js';
import { terminalPassphrasePrompt } from '../ssh/prompt.js';
import { expandTilde, loadSshConfig } from '../ssh/ssh-config.js';
import { LocalTransport } from './local.js';
import { forwardTo, openClient, SshTransport, type SshLink } from './ssh.js';
import type { Transport } from './transport.js';

export interface ConnectHostOptions {
  /** The whole deploy.yml: its top-level SSH keys are defaults for every host. */
  config?: Partial<Config>;
  /** Warnings a person should see, such as a host key recorded by accept-new. */
  log?: (message: string) => void;
  prompt?: PassphrasePrompt;
  /** The run's mask, for what the passphrase prompt shows of a key's path. */
  mask?: Mask;
}

const SHARED_KEYS = [
  'host_key_checking',
  'known_hosts_file',
  'proxy_jump',
  'forward_agent',
  'connect_timeout',
] as const;

/** deploy.yml's SSH settings for one host: its own keys over the top-level defaults. */
export function hostSshSettings(host: HostConfig, config: Partial<Config> = {}): HostSshSettings {
  const settings: HostSshSettings = {
    hostname: host.hostname,
    user: host.user,
    port: host.port,
    identity_file: host.identity_file,
  };
  for (const key of SHARED_KEYS) (settings as Record<string, unknown>)[key] = host[key] ?? config[key];
  return settings;
}

/** Opens the one connection a host gets for the whole run, through its jump hosts if any. */
export async function connectHost(
  alias: string,
  host: HostConfig,
  env: NodeJS.ProcessEnv = process.env,
  options: ConnectHostOptions = {},
): Promise<Transport> {
  return host.local ? new LocalTransport() : connectSsh(alias, host, env, options);
}

// duplicates: the same parameters as connectHost: one entry point for any host, one for SSH only.
/** The SSH connection of a host that is not `local`. */
export async function connectSsh(
  alias: string,
  host: HostConfig,
  env: NodeJS.ProcessEnv = process.env,
  options: ConnectHostOptions = {},
): Promise<SshTransport> {
  const homedir = os.homedir();
  const configFile = expandTilde(options.config?.ssh_config_file ?? '~/.ssh/config', homedir);
  const context: ConnectContext = { sshConfigText: loadSshConfig(path.resolve(configFile)), env, homedir };
  const settings = hostSshSettings(host, options.config);
  const target = resolveConnectOptions(alias, settings, context);
  const hops = (target.proxyJump ?? []).map((spec) => {
    let jump;
    try {
      jump = parseJump(spec);
    } catch (e) {
      throw new DeployError('ECONNECT', { host: alias, address: spec, reason: (e as Error).message });
    }
    // A hop is its own ssh-config alias, checked as strictly as the host it leads to.
    const hop = resolveConnectOptions(
      jump.host,
      {
        user: jump.user,
        port: jump.port,
        host_key_checking: settings.host_key_checking,
        known_hosts_file: settings.known_hosts_file,
        connect_timeout: settings.connect_timeout,
      },
      context,
    );
    // A bastion often takes the same deploy key: offer the host's key file after the hop's own.
    const extra = target.identityFiles.filter(
      (f) => settings.identity_file && !hop.identityFiles.includes(f),
    );
    return {
      options: { ...hop, identityFiles: [...hop.identityFiles, ...extra] },
      label: `${spec} (jump host for ${alias})`,
    };
  });

  // Every run, for every hop: an insecure setting must not go quiet once it is written down.
  for (const { options: o } of [...hops, { options: target }]) for (const w of o.warnings) options.log?.(w);
  const prompt =
    options.prompt ??
    terminalPassphrasePrompt(createSanitiser({ mask: options.mask, ci: ciProviderOf(env) }));
  const links: SshLink[] = [];
  for (const { options: o, label } of [...hops, { options: target, label: alias }]) {
    links.push(await prepareLink(o, label, env, prompt));
  }

  const clients: Client[] = [];
  try {
    let sock: Duplex | undefined;
    for (const [i, link] of links.entries()) {
      if (i > 0) sock = await forwardTo(clients[i - 1]!, links[i - 1]!.label, link);
      clients.push(await openClient({ ...link, sock }));
      const accepted = link.verifier.accepted;
      if (accepted) {
        options.log?.(
          accepted.error
            ? `accepted the new host key of ${link.label} but could not record it: ${accepted.error}`
            : `permanently added the host key of ${link.label} to ${accepted.file ?? 'known hosts'}: ${accepted.line.split(' ').slice(0, 2).join(' ')}`,
        );
      }
    }
  } catch (e) {
    for (const c of clients.reverse()) c.end();
    throw e;
  }
  return new SshTransport(clients.at(-1)!, alias, { jumps: clients.slice(0, -1) });
}

async function prepareLink(
  options: ConnectOptions,
  label: string,
  env: NodeJS.ProcessEnv,
  prompt: PassphrasePrompt | undefined,
): Promise<SshLink> {
  const verifier = createHostVerifier({
    alias: label,
    hostname: options.host,
    port: options.port,
    mode: options.hostKeyMode,
    knownHostsFiles: options.knownHostsFiles,
    writeFile: options.userKnownHostsFile,
    env,
  });
  const keys = await loadKeys(options, prompt);
  return { options, verifier, auth: planAuth(options, keys), label };
}
