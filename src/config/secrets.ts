import fs from 'node:fs';
import path from 'node:path';
import { normalizePrivateKey } from '../ssh/connect-options.js';
import { sharedFiles, type Config } from './schema.js';

/** Shorter values are common words ("production", "true"); hiding them would garble output. */
const MIN_VALUE = 12;
const MIN_LINE = 16;
const MIN_KEY_LINE = 16;

/**
 * Secrets the environment hands us directly: SSH_PRIVATE_KEY (whole and line by line, since
 * error text may quote a single line of it) and SSH_KEY_PASSPHRASE.
 */
export function environmentSecrets(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] {
  const out: string[] = [];
  const key = normalizePrivateKey(env.SSH_PRIVATE_KEY);
  if (env.SSH_PRIVATE_KEY) out.push(env.SSH_PRIVATE_KEY.trim());
  if (key) {
    out.push(key.trim());
    for (const line of key.split('\n'))
      if (line.length >= MIN_KEY_LINE && !line.startsWith('-----')) out.push(line);
  }
  if (env.SSH_KEY_PASSPHRASE) out.push(env.SSH_KEY_PASSPHRASE);
  return out;
}

/**
 * The contents of shared files as far as we know them: the copies in `source` that seed
 * shared/ (the server's own copies are never read back). Each long line, and each long value
 * of a `KEY=value` or `key: value` line, is a secret: output quotes lines, never whole files.
 */
export function sharedFileSecrets(config: Pick<Config, 'source' | 'shared_files'>): string[] {
  const out: string[] = [];
  for (const { path: rel } of sharedFiles(config)) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(config.source, rel), 'utf8');
    } catch {
      continue;
    }
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      if (line.length >= MIN_LINE) out.push(line);
      const m = /^(?:export\s+)?[\w.-]+\s*[=:]\s*(.*)$/.exec(line);
      const value = m?.[1]?.replace(/^(['"])(.*)\1$/, '$2').trim();
      if (value && value.length >= MIN_VALUE) out.push(value);
    }
  }
  return out;
}
