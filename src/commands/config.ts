import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Config, HostConfig } from '../config/schema.js';
import { selectHosts } from '../engine/selector.js';
import { resolveRecipe } from '../persistence/app-persistence.js';
import { hostSshSettings } from '../remote/connect.js';
import { resolveConnectOptions } from '../ssh/connect-options.js';
import { expandTilde, loadSshConfig } from '../ssh/ssh-config.js';
import { loadForOutput } from './lifecycle-options.js';

export interface ConfigCommandOptions {
  config: string;
  selector: string[];
  json?: boolean;
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
}

/** What `ssh` would do for a host, as a person reads it; key material never appears, only where it comes from. */
function connection(alias: string, host: HostConfig, config: Config, env: NodeJS.ProcessEnv) {
  if (host.local) return { transport: 'local (child processes on this machine)' };
  const homedir = os.homedir();
  const sshConfigFile = path.resolve(expandTilde(config.ssh_config_file ?? '~/.ssh/config', homedir));
  const o = resolveConnectOptions(alias, hostSshSettings(host, config), {
    sshConfigText: loadSshConfig(sshConfigFile),
    env,
    homedir,
  });
  return {
    transport: 'ssh',
    ssh_config_file: sshConfigFile,
    hostname: o.host,
    port: o.port,
    user: o.username,
    keys: o.triedKeys,
    identity_files: o.identityFiles,
    forward_agent: o.agentForward,
    host_key_checking: o.hostKeyMode,
    known_hosts_files: o.knownHostsFiles,
    proxy_jump: o.proxyJump ?? [],
    connect_timeout: o.readyTimeout / 1000,
    keepalive_interval: o.keepaliveInterval / 1000,
  };
}

/**
 * `deploy config [selector]`: per selected host, deploy.yml with defaults filled and
 * `${VAR}`s read, the SSH connection after ~/.ssh/config, and the recipe merged in —
 * what a deploy would use, so a surprising value can be traced. Contacts no host.
 */
export async function configCommand(o: ConfigCommandOptions): Promise<number> {
  const env = o.env ?? process.env;
  const write = o.write ?? ((t: string) => process.stdout.write(t));
  const { loaded, out } = loadForOutput(o, env);
  const { config } = loaded;
  const { hosts: _all, ...shared } = config;
  const persistence = resolveRecipe(config);
  const resolved = Object.fromEntries(
    selectHosts(config, o.selector).map(({ alias, host }) => [
      alias,
      {
        host,
        connection: connection(alias, host, config, env),
        persistence,
        config: { file: path.resolve(loaded.file), ...shared },
      },
    ]),
  );
  // Sanitised before serializing: JSON and YAML escape a secret's quotes and newlines differently.
  const safe = out.sanitise.value(resolved);
  write(out.sanitise.mask(o.json ? `${JSON.stringify(safe, null, 2)}\n` : stringify(safe, { lineWidth: 0 })));
  return 0;
}
