import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import type { AnyAuthMethod, AuthHandlerMiddleware, ParsedKey } from 'ssh2';
import { parseKey } from './ssh2-parts.js';
import type { ConnectOptions } from './connect-options.js';

/** A private key ready to offer, or why it could not be used. */
export interface LoadedKey {
  /** `~/.ssh/id_ed25519` or `SSH_PRIVATE_KEY`, for messages. */
  label: string;
  key?: ParsedKey;
  skipped?: string;
}

/** Asks a person for a key's passphrase; undefined when nobody can be asked (no terminal). */
export type PassphrasePrompt = (label: string) => Promise<string | undefined>;

const tilde = (p: string, home = homedir()): string =>
  p.startsWith(`${home}/`) ? `~${p.slice(home.length)}` : p;

const isEncryptedError = (e: Error): boolean => /encrypted|passphrase/i.test(e.message);

/**
 * Parses the keys to offer: `SSH_PRIVATE_KEY` alone when it is set (a CI secret wins over whatever
 * files the runner has), else the identity files in ssh's order. An encrypted key takes
 * SSH_KEY_PASSPHRASE, then a prompt; a key that still cannot be read is skipped, and the reason
 * ends up in EAUTH, because the agent or the next file may still get us in.
 */
export async function loadKeys(options: ConnectOptions, prompt?: PassphrasePrompt): Promise<LoadedKey[]> {
  const sources: { label: string; text: () => string }[] = options.privateKey
    ? [{ label: 'SSH_PRIVATE_KEY', text: () => options.privateKey! }]
    : options.identityFiles.map((file) => ({ label: tilde(file), text: () => readFileSync(file, 'utf8') }));
  const keys: LoadedKey[] = [];
  for (const { label, text } of sources) {
    let raw: string;
    try {
      raw = text();
    } catch (e) {
      keys.push({ label, skipped: `unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
      continue;
    }
    keys.push(await parseWithPassphrase(label, raw, options.passphrase, prompt));
  }
  return keys;
}

async function parseWithPassphrase(
  label: string,
  raw: string,
  passphrase: string | undefined,
  prompt?: PassphrasePrompt,
): Promise<LoadedKey> {
  let parsed = parse(raw, passphrase);
  if (parsed instanceof Error && isEncryptedError(parsed) && prompt) {
    const typed = await prompt(label);
    if (typed !== undefined) parsed = parse(raw, typed);
  }
  if (!(parsed instanceof Error)) return { label, key: parsed };
  if (!isEncryptedError(parsed)) return { label, skipped: `not a usable private key (${parsed.message})` };
  return {
    label,
    skipped: passphrase
      ? 'encrypted, and SSH_KEY_PASSPHRASE does not open it'
      : 'encrypted; set SSH_KEY_PASSPHRASE or run on a terminal to be asked',
  };
}

function parse(raw: string, passphrase: string | undefined): ParsedKey | Error {
  const result = parseKey(raw, passphrase);
  if (result instanceof Error) return result;
  return Array.isArray(result) ? (result[0] ?? new Error('no key in the file')) : result;
}

export interface AuthPlan {
  authHandler: AuthHandlerMiddleware;
  /** Methods offered so far, in order, for EAUTH: `ssh-agent (/run/agent.sock)`, `publickey ~/.ssh/id_rsa`. */
  readonly tried: string[];
  /** Keys that could not be offered, with the reason. */
  readonly skipped: string[];
}

/**
 * OpenSSH's order: the agent's keys first, then the key files (or SSH_PRIVATE_KEY). ssh2 walks
 * every identity of the agent itself before asking for the next method.
 */
export function planAuth(options: ConnectOptions, keys: readonly LoadedKey[]): AuthPlan {
  const queue: { label: string; method: AnyAuthMethod }[] = [];
  const { username } = options;
  if (options.agent) {
    queue.push({
      label: `ssh-agent (${tilde(options.agent)})`,
      method: { type: 'agent', username, agent: options.agent },
    });
  }
  for (const k of keys) {
    if (k.key)
      queue.push({ label: `publickey ${k.label}`, method: { type: 'publickey', username, key: k.key } });
  }
  const tried: string[] = [];
  return {
    tried,
    skipped: keys.filter((k) => k.skipped).map((k) => `${k.label}: ${k.skipped!}`),
    authHandler: (methodsLeft, _partial, next) => {
      const allowed = (type: string) =>
        !methodsLeft || methodsLeft.includes(type === 'agent' ? 'publickey' : (type as 'publickey'));
      let item = queue.shift();
      while (item && !allowed(item.method.type)) item = queue.shift();
      if (!item) return next(false as unknown as AnyAuthMethod);
      tried.push(item.label);
      next(item.method);
    },
  };
}
