import path from 'node:path';
import { deployCommand } from '../definitions/invocation.js';
import { quote } from '../remote/sh.js';
import { persistenceOf } from '../persistence/app-persistence.js';
import { serverCopyName } from '../persistence/server-copy.js';
import { grantRead, putMode } from './server-setup.js';
import type { HostContext } from './types.js';

/** The `--put LOCAL:SHARED_PATH` values that place the files from their server copies. */
export const putsFor = (ctx: Pick<HostContext, 'alias' | 'host'>, files: readonly string[]): string[] =>
  files.map((f) => `${serverCopyName(f, ctx)}:${f}`);

/** `deploy setup <host> --put …` for the files, as this run's user types it (with its `-c`). */
export function setupCommandFor(ctx: HostContext, files: readonly string[]): string {
  const puts = putsFor(ctx, files).map((p) => ` --put ${quote(p)}`);
  return `${deployCommand`setup ${ctx.alias}`}${puts.join('')}`;
}

/**
 * The same by hand, complete as OpenSSH needs it from deploy.yml alone: user, port (`-P`; scp
 * would otherwise go to 22), key, known_hosts file and jump host, and a `mkdir -p` over ssh
 * first when the file sits in a directory shared/ may not have yet. For a local host, `cp`.
 * Then the mode and read grant `deploy setup --put` gives: scp leaves the server's default
 * (0644 under umask 022), which lets every account on the server read the secret. The local copy
 * is made 0600 first, so the file scp creates is never readable by others before that (scp and
 * cp create it with the source's mode), nor after it, should the last step fail.
 *
 * The destination is the alias, as for the deploy: ~/.ssh/config's `Host` blocks match it (a
 * `Host web1` with the port and user), and deploy.yml's `hostname` goes in as `-o HostName=`,
 * which overrides that file's as it does for the deploy. Naming the hostname instead would skip
 * those blocks, and scp would go to port 22 as the local user.
 */
export function copyCommandFor(ctx: HostContext, file: string): string {
  const target = path.posix.join(ctx.paths.shared, file);
  const parent = path.posix.dirname(target);
  const local = quote(serverCopyName(file, ctx));
  const nested = file.includes('/');
  const w = persistenceOf(ctx).writable;
  const grant = grantRead(w, target);
  const secure = `chmod ${putMode(w).mode.toString(8)} ${quote(target)}${grant ? ` && ${grant.text}` : ''}`;
  const closed = `chmod 600 ${local}`;
  if (ctx.host.local) {
    return `${closed} && ${nested ? `mkdir -p ${quote(parent)} && ` : ''}cp ${local} ${quote(target)} && ${secure}`;
  }
  const h = ctx.host;
  const knownHosts = h.known_hosts_file ?? ctx.config.known_hosts_file;
  const jump = h.proxy_jump ?? ctx.config.proxy_jump;
  const options = [
    ...(h.hostname && h.hostname !== ctx.alias ? ['-o', quote(`HostName=${h.hostname}`)] : []),
    ...(h.identity_file ? ['-i', quote(h.identity_file)] : []),
    ...(knownHosts ? ['-o', quote(`UserKnownHostsFile=${knownHosts}`)] : []),
    ...(jump ? ['-J', quote(jump)] : []),
  ].join(' ');
  const at = `${h.user ? `${h.user}@` : ''}${ctx.alias}`;
  const opt = options ? ` ${options}` : '';
  const scp = `scp${h.port ? ` -P ${h.port}` : ''}${opt} ${local} ${quote(`${at}:${target}`)}`;
  const ssh = (command: string) => `ssh${h.port ? ` -p ${h.port}` : ''}${opt} ${quote(at)} ${quote(command)}`;
  return `${closed} && ${nested ? `${ssh(`mkdir -p ${quote(parent)}`)} && ` : ''}${scp} && ${ssh(secure)}`;
}
