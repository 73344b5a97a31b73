import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

/**
 * Where this machine keeps what only saves time (file hashes, what it last learnt of each host,
 * compiled code): `$SHIPSHAPE_CACHE_DIR`, else `$XDG_CACHE_HOME/shipshape`, else
 * `~/.cache/shipshape`. One entry per `key` under `kind`, named by a short hash of it.
 */
export function cacheEntry(kind: string, key: string, env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.SHIPSHAPE_CACHE_DIR ??
    path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'shipshape');
  return path.join(base, kind, createHash('sha256').update(key).digest('hex').slice(0, 16));
}
