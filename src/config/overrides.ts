import { DeployError } from '../definitions/errors.js';
import { isScalar } from 'yaml';
import { readYamlDocument } from './yaml-document.js';

/** One `-o key=value` from the command line: a dotted path into deploy.yml and the value to put there. */
export interface Override {
  /** As the user wrote it, before the `=`: how an error names it. */
  key: string;
  path: (string | number)[];
  value: unknown;
}

/**
 * The value as YAML reads a scalar or a flow collection: `-o keep_releases=1` is a number,
 * `-o respect_gitignore=false` a boolean, `-o 'exclude=[a, b]'` a list. Text is the text as
 * typed: the shell already took its quotes, so `My App #2` keeps what YAML would read as a
 * comment, `!admin` what it would read as a tag, `&a x` its anchor; a mapping's text stays too
 * (`-o application=shop: staging` is the name), and so does text YAML cannot read. Only a quoted
 * scalar is read as YAML's string. A flow collection is held to deploy.yml's rules (no unknown
 * tag, no mapping as a key): `problem` says what is wrong with it.
 */
function readValue(text: string): { value: unknown; problem?: string } {
  if (text === '') return { value: '' };
  const { doc, problems } = readYamlDocument(text);
  if (doc.errors.length > 0) return { value: text };
  let v: unknown;
  try {
    v = doc.toJS({ maxAliasCount: 100 });
  } catch {
    return { value: text };
  }
  if (!/^\s*[[{]/.test(text)) {
    // Null is what was typed as null (`null`, `~`); YAML reads a comment alone (`#general`), a
    // `...` or blanks as nothing too, where the text, or an empty one, was meant.
    if (v === null && !/^\s*(~|null|Null|NULL)\s*$/.test(text)) return { value: text.trim() };
    const node = doc.contents;
    const quoted = isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE');
    if (typeof v === 'string' && quoted && problems.length === 0) return { value: v };
    if (typeof v === 'string' || (v !== null && typeof v === 'object')) return { value: text.trim() };
  }
  return { value: v, problem: problems[0]?.message };
}

/** Parses `key=value` overrides; a malformed one is a usage error naming all of them, before anything runs. */
export function parseOverrides(specs: readonly string[]): Override[] {
  const bad: string[] = [];
  const out: Override[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const key = eq > 0 ? spec.slice(0, eq).trim() : '';
    const path = key.split('.');
    if (!key || path.some((seg) => seg === '')) {
      bad.push(
        `-o ${spec}: expected key=value with a dotted key, e.g. -o keep_releases=3 or -o hosts.web1.port=2222`,
      );
      continue;
    }
    const { value, problem } = readValue(spec.slice(eq + 1));
    if (problem !== undefined) {
      bad.push(`-o ${spec}: ${problem}`);
      continue;
    }
    out.push({ key, path: path.map((seg) => (/^\d+$/.test(seg) ? Number(seg) : seg)), value });
  }
  if (bad.length) throw new DeployError('EUSAGE', { reason: bad.join('\n') });
  return out;
}

const NOTIFY_URLS = ['webhook', 'slack', 'discord'];

/**
 * The notification URLs the overrides set: each is a password (a chat webhook's URL is), masked
 * as a `${VAR}` of deploy.yml is. The shell expanded the variable an -o was written with, so
 * only the value is left to know it by.
 */
export function secretOverrides(overrides: readonly Override[]): string[] {
  const out: string[] = [];
  for (const { path, value } of overrides) {
    if (path[0] !== 'notify') continue;
    const urls: unknown[] =
      path.length === 1 && isContainer(value)
        ? NOTIFY_URLS.map((k) => (value as Record<string, unknown>)[k])
        : path.length === 2 && NOTIFY_URLS.includes(String(path[1]))
          ? [value]
          : [];
    for (const u of urls) if (typeof u === 'string' && u !== '') out.push(u);
  }
  return out;
}

const isContainer = (v: unknown): v is Record<string | number, unknown> => !!v && typeof v === 'object';

/** The document with each override set at its path, later ones winning; missing mappings are created. */
export function applyOverrides(doc: Record<string, unknown>, overrides: readonly Override[]): void {
  for (const { path, value } of overrides) {
    let at: Record<string | number, unknown> = doc;
    for (const seg of path.slice(0, -1)) {
      if (!isContainer(at[seg])) at[seg] = {};
      at = at[seg] as Record<string | number, unknown>;
    }
    at[path.at(-1)!] = value;
  }
}

const startsWith = (p: readonly (string | number)[], prefix: readonly (string | number)[]) =>
  prefix.length <= p.length && prefix.every((seg, i) => String(seg) === String(p[i]));

/**
 * The override a problem at `path` comes from, if any: the problem lies under what it set, or in a
 * mapping only it created (a key then missing there). Such a problem has no line in the file.
 */
export function overrideAt(
  path: readonly (string | number)[],
  overrides: readonly Override[],
  inFile: (path: readonly (string | number)[]) => boolean,
): Override | undefined {
  return [...overrides]
    .reverse()
    .find(
      (o) =>
        startsWith(path, o.path) ||
        (path.length > 1 && startsWith(o.path, path.slice(0, -1)) && !inFile(path.slice(0, -1))),
    );
}
