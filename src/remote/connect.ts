import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostConfig } from '../config/schema.js';
import { LocalTransport } from './local.js';
import { SshTransport } from './ssh.js';
import type { Transport } from './transport.js';

const expandHome = (p: string): string => (p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p);

/** Opens the one connection a host gets for the whole run. */
export async function connectHost(
  alias: string,
  host: HostConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Transport> {
  if (host.local) return new LocalTransport();
  const identity = host.identity_file ? expandHome(host.identity_file) : undefined;
  return SshTransport.connect({
    alias,
    host: host.hostname ?? alias,
    port: host.port ?? 22,
    username: host.user ?? os.userInfo().username,
    privateKey: identity ? fs.readFileSync(identity, 'utf8') : env.SSH_PRIVATE_KEY,
    agent: env.SSH_AUTH_SOCK,
    readyTimeout: 10_000,
    keepaliveInterval: 15_000,
  });
}
