import fs from 'node:fs';
import path from 'node:path';
import { normalizePrivateKey } from '../ssh/connect-options.js';
import { sharedFiles, type Config } from './schema.js';
import type { Mask } from '../definitions/sanitise.js';

export type { Mask };

/**
 * How long a value must be to be masked. A `${VAR}` was put there by the user on purpose, so
 * anything longer than a port number or a flag counts; values found in shared files are a guess,
 * and shorter ones are common words ("production", "true") whose masking would garble output.
 */
export const MIN_ENV_SECRET = 4;
const MIN_VALUE = 12;
const MIN_LINE = 16;
const MIN_KEY_LINE = 16;

export const noMask: Mask = (text) => text;

/**
 * At most `max` characters of `text`, masked before it is cut: cut first, a secret at the cut
 * would no longer match the mask and its first characters would show. The only way shipshape
 * shortens text that may hold a secret.
 */
export function clipMasked(mask: Mask, text: string, max: number): string {
  const masked = mask(text);
  return masked.length > max ? `${masked.slice(0, max)}…` : masked;
}

const jsonEscaped = (s: string): string => JSON.stringify(s).slice(1, -1);
/** As `quote()` in remote/sh.ts writes it inside single quotes, for dash. */
const singleQuoted = (s: string): string => s.replace(/'/g, `'\\''`);
/** As the executor flattens a failed command onto one line. */
const flattened = (s: string): string => s.replace(/\s*\n\s*/g, '; ');

/**
 * The forms a secret takes in output: as is, JSON-escaped, shell-quoted, flattened, and
 * combinations (a log line is JSON inside a shell-quoted command inside a JSON result). Each
 * line of a multi-line secret too, since output may quote one line of it.
 */
function encodings(secret: string): string[] {
  const all = new Set([secret]);
  for (const line of secret.split('\n')) if (line.trim().length >= MIN_ENV_SECRET) all.add(line.trim());
  for (let depth = 0; depth < 3; depth++)
    for (const s of [...all]) for (const encode of [jsonEscaped, singleQuoted, flattened]) all.add(encode(s));
  return [...all];
}

/**
 * Replaces every secret value, in any form it can be serialized to, by `***`; longest first so
 * a secret containing another is fully hidden. SSH_PRIVATE_KEY and SSH_KEY_PASSPHRASE from
 * `env` are always among them, whatever the caller passes.
 */
export function createMask(
  secrets: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Mask {
  const all = [...secrets, ...environmentSecrets(env)].filter((s) => s.length > 0).flatMap(encodings);
  const list = [...new Set(all)].sort((a, b) => b.length - a.length);
  return (text) => list.reduce((t, s) => t.split(s).join('***'), text);
}

/** The mask of a loaded configuration: its `${VAR}` values, its shared files, the environment's keys. */
export const configMask = (
  loaded: { secrets: readonly string[]; config: Pick<Config, 'source' | 'shared_files'> },
  env: Readonly<Record<string, string | undefined>> = process.env,
): Mask => createMask([...loaded.secrets, ...sharedFileSecrets(loaded.config)], env);

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
    out.push(...fileSecrets(text));
  }
  return out;
}

/** The secrets of one such file's text (also of a file `deploy setup --put` places). */
export function fileSecrets(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.length >= MIN_LINE) out.push(line);
    const m = /^(?:export\s+)?[\w.-]+\s*[=:]\s*(.*)$/.exec(line);
    const value = m?.[1]?.replace(/^(['"])(.*)\1$/, '$2').trim();
    if (value && value.length >= MIN_VALUE) out.push(value);
  }
  return out;
}
