import { spawn } from 'node:child_process';
import { DeployError } from '../definitions/errors.js';
import { deployPaths } from '../layout/paths.js';
import { selectHosts } from '../engine/selector.js';
import { connectSsh } from '../remote/connect.js';
import { sh } from '../remote/sh.js';
import { loadForOutput } from './lifecycle-options.js';

export interface SshCommandOptions {
  config: string;
  host: string;
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

/**
 * `deploy ssh <host>`: an interactive login shell in `current` on one host, over the same
 * connection settings a deploy uses (ssh config, known_hosts, agent, jump hosts), with a pty.
 * Before the first deploy there is no `current`; the shell then starts in the deploy path.
 */
export async function sshCommand(o: SshCommandOptions): Promise<number> {
  const env = o.env ?? process.env;
  const stdin = o.stdin ?? process.stdin;
  const stdout = o.stdout ?? process.stdout;
  const { loaded, out } = loadForOutput(o, env);
  const hosts = selectHosts(loaded.config, o.host);
  if (hosts.length !== 1) {
    throw new DeployError('EUSAGE', {
      reason: `deploy ssh needs exactly one host; \`${o.host}\` matches ${hosts.map((h) => h.alias).join(', ')}`,
    });
  }
  const { alias, host } = hosts[0]!;
  const paths = deployPaths(host.deploy_path);
  const script = sh`cd ${paths.current} 2>/dev/null || cd ${paths.root} || exit; exec "\${SHELL:-/bin/sh}" -l`;

  if (host.local) {
    const child = spawn('/bin/sh', ['-c', script.text], { stdio: 'inherit', env });
    return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  }
  const transport = await connectSsh(alias, host, env, {
    config: loaded.config,
    log: (m) => out.stderr(`warning: ${m}\n`),
    mask: out.sanitise.mask,
  });
  try {
    return await transport.shell(script, { stdin, stdout });
  } finally {
    await transport.close();
  }
}
