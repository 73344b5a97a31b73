import fs from 'node:fs';
import path from 'node:path';
import {
  isMap,
  isPair,
  isScalar,
  type Document,
  type LineCounter,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import type { z } from 'zod';
import { DeployError, type ConfigProblem } from '../definitions/errors.js';
import { interpolate, originKey, type Interpolation } from './interpolate.js';
import { applyOverrides, overrideAt, secretOverrides, type Override } from './overrides.js';
import { SYSTEM_DIRS } from './paths.js';
import { configSchema, type Config } from './schema.js';
import { keyForms, knownKeys, unionMessage } from './schema-keys.js';
import { clipMasked, createMask, type Mask } from './secrets.js';
import { suggest } from './suggest.js';
import { readYamlDocument } from './yaml-document.js';

export interface LoadedConfig {
  file: string;
  dir: string;
  config: Config;
  /** Values that came from the environment; output masks them. */
  secrets: string[];
  /** Warnings about the file that are not errors; every command prints them. */
  notes: string[];
}

type Path = (string | number)[];

function locate(
  doc: Document,
  counter: LineCounter,
  at: Path,
  key?: string,
): { line: number; column: number } {
  let node: unknown = doc.contents;
  let offset = 0;
  for (const seg of at) {
    const parent = node;
    node = isMap(parent) ? lastPair(parent, seg)?.value : (parent as any)?.get?.(seg, true);
    if (node === undefined || node === null) break;
    offset = (node as Node).range?.[0] ?? offset;
  }
  if (key !== undefined && isMap(node)) {
    const pair = lastPair(node, key);
    if (pair && isScalar(pair.key)) offset = pair.key.range?.[0] ?? offset;
  } else if (node && (node as Node).range) {
    offset = (node as Node).range![0];
  } else if (at.length > 0) {
    // A missing key: point at the map that should hold it.
    const parent = doc.getIn(at.slice(0, -1), true) as Node | undefined;
    offset = parent?.range?.[0] ?? 0;
  }
  const pos = counter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/**
 * The pair a key of the parsed value comes from: the last one, as for a duplicated key the
 * document reads as the last (see duplicateKeys). Keys compare as text, as in the parsed value.
 */
function lastPair(map: YAMLMap, key: string | number): Pair | undefined {
  return map.items.filter((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key)).at(-1);
}

/** `hosts.web.port`; odd keys (spaces, empty, dots) are shown as JSON strings so the path stays readable. */
const keyPath = (p: Path): string =>
  p
    .map((k) => (typeof k === 'number' || /^[A-Za-z0-9_-]+$/.test(k) ? String(k) : JSON.stringify(k)))
    .join('.') || '(top level)';

function formatProblem(p: ConfigProblem): string {
  if (p.override !== undefined) return `-o ${p.override}: ${p.key}: ${p.message}`;
  return `${p.file}:${p.line}:${p.column}: ${p.key}: ${p.message}`;
}

/**
 * Parses, interpolates and validates a deploy.yml, with `-o key=value` overrides set on top
 * (validated as if they were in the file). Throws ECONFIG with every problem at once.
 */
export function parseConfig(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  overrides: readonly Override[] = [],
): LoadedConfig {
  const { doc, counter, problems: yamlProblems, trusted } = readYamlDocument(text);
  const problems: ConfigProblem[] = [];
  const add = (at: Path, message: string, key?: string) => {
    const full = key === undefined ? at : [...at, key];
    const from = overrideAt(full, overrides, (p) => doc.hasIn(p));
    if (from) {
      problems.push({ file, line: 0, column: 0, key: keyPath(full), message, override: from.key });
      return;
    }
    const pos = locate(doc, counter, at, key);
    problems.push({ file, ...pos, key: keyPath(full), message });
  };

  for (const p of yamlProblems) {
    const pos = counter.linePos(p.offset);
    const key = p.path ? keyPath(p.path) : '(yaml)';
    problems.push({ file, line: pos.line, column: pos.col, key, message: p.message });
  }
  if (!trusted) throw configError(file, problems);

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    problems.push({ file, line: 1, column: 1, key: '(yaml)', message: (e as Error).message });
    throw configError(file, problems);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({
      file,
      line: 1,
      column: 1,
      key: '(top level)',
      message: 'must be a mapping of keys to values',
    });
    throw configError(file, problems);
  }

  const found: Interpolation = { problems: [], secrets: new Set(), origins: new Map(), notes: [] };
  // Overrides come after interpolation: the shell that ran `deploy` already expanded them.
  const value = interpolate(raw, env, found) as Record<string, unknown>;
  applyOverrides(value, overrides);
  // `x-` keys hold what YAML anchors point at (`x-web: &web {…}`, as in Compose files): read for
  // the aliases and merge keys that use them, then set aside.
  for (const key of Object.keys(value)) if (key.startsWith('x-')) delete value[key];
  for (const url of secretOverrides(overrides)) found.secrets.add(url);
  const { secrets, problems: envProblems } = found;
  for (const p of envProblems) add(p.path, p.message);
  // A value from the environment that fails validation would be quoted in the message.
  const mask = createMask([...secrets], env);

  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    const report = (issue: z.core.$ZodIssue, prefix: Path): void => {
      const at = [...prefix, ...(issue.path as Path)];
      if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        // The union's own message only lists the forms: report the alternative written in the
        // same form as the input (a path string, or a mapping with options), whose own problems
        // are precise. Of two mappings (`run:` or `task:`), the one whose required keys are there.
        const sameForm = issue.errors.filter(
          (branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0),
        );
        const isMissing = (i: z.core.$ZodIssue) =>
          i.code === 'invalid_type' &&
          i.path.length === 1 &&
          valueAt(value, [...at, ...(i.path as Path)]) === undefined;
        const complete = sameForm.filter((branch) => !branch.some(isMissing));
        const chosen = sameForm.length === 1 ? sameForm : complete;
        if (chosen.length === 1) return chosen[0]!.forEach((i) => report(i, at));
        // A key none of the mappings takes is named, as in a strict object, with what each may hold.
        const unknown = keysNoFormTakes(sameForm);
        if (unknown.length > 0) {
          const forms = keyForms(configSchema, at);
          const guesses = forms.flatMap((f) => [...f.required, ...f.optional]);
          for (const k of unknown) {
            const guess = suggest(k, guesses);
            add(
              at,
              guess
                ? `unknown key \`${k}\` — did you mean \`${guess}\`?`
                : `unknown key \`${k}\` — ${describeForms(forms)}`,
              k,
            );
          }
          // What every mapping finds wrong in the rest (`once: 3`) is wrong whichever was meant.
          const inAll = (i: z.core.$ZodIssue) =>
            sameForm.every((branch) => branch.some((j) => sameIssue(i, j)));
          const rest = sameForm[0]!.filter((i) => i.code !== 'unrecognized_keys' && !isMissing(i));
          return rest.filter(inAll).forEach((i) => report(i, at));
        }
        if (envProblems.some((p) => keyPath(p.path) === keyPath(at))) return;
        const input = valueAt(value, at);
        const shown = input !== null && typeof input === 'object' && !Array.isArray(input);
        return add(
          at,
          shown
            ? issue.message
            : `${issue.message}, got ${describe(input, mask, found.origins.get(originKey(at)))}`,
        );
      }
      if (issue.code === 'unrecognized_keys') {
        const known = knownKeys(configSchema, at);
        const forms = keyForms(configSchema, at);
        for (const k of issue.keys) {
          const guess = suggest(k, known);
          add(
            at,
            // Known to another form of a union (`local` in a `task:` step): which form takes it.
            guess === k && forms.length > 0
              ? `\`${k}\` does not go with the keys beside it — ${describeForms(forms)}`
              : guess
                ? `unknown key \`${k}\` — did you mean \`${guess}\`?`
                : `unknown key \`${k}\` — allowed: ${known.join(', ')}`,
            k,
          );
        }
      } else if (issue.code === 'invalid_key') {
        add(at.slice(0, -1), issue.issues.map((i) => i.message).join('; '), String(at.at(-1)));
      } else if (issue.code === 'invalid_type') {
        const input = valueAt(value, at);
        add(
          at,
          input === undefined
            ? `is required (${issue.expected})`
            : `expected ${issue.expected}, got ${describe(input, mask, found.origins.get(originKey(at)))}`,
        );
      } else if (envProblems.some((p) => keyPath(p.path) === keyPath(at))) {
        // The environment problem already says why the value is wrong.
      } else if (issue.code === 'invalid_value' && issue.values.every((v) => typeof v === 'string')) {
        // zod's "Invalid option: expected one of "a"|"b"" neither shows the value nor guesses.
        const input = valueAt(value, at);
        const allowed = issue.values as string[];
        const guess = typeof input === 'string' ? suggest(input, allowed) : undefined;
        add(
          at,
          `must be one of ${allowed.join(', ')}, got ${describe(input, mask, found.origins.get(originKey(at)))}` +
            (guess ? ` — did you mean \`${guess}\`?` : ''),
        );
      } else if (FORM_CHECKS.has(issue.code) && unionMessage(configSchema, at, issue) !== undefined) {
        // Of a union, zod reports the one form of the value's type with that form's check alone
        // (-1 "Too small" for batch_size): the union's own message says what every form allows.
        const input = valueAt(value, at);
        add(
          at,
          `${unionMessage(configSchema, at, issue)}, got ${describe(input, mask, found.origins.get(originKey(at)))}`,
        );
      } else {
        add(at, issue.message);
      }
    };
    for (const issue of parsed.error.issues) report(issue, []);
  }
  if (problems.length) {
    throw configError(
      file,
      problems.map((p) => ({ ...p, message: mask(p.message) })),
    );
  }

  const dir = path.dirname(path.resolve(file));
  const config = parsed.data!;
  config.source = path.resolve(dir, config.source);
  for (const [alias, host] of Object.entries(config.hosts)) {
    if (!host.local) continue;
    host.deploy_path = path.resolve(dir, host.deploy_path);
    const problem = localDeployPathProblem(host.deploy_path, config.source);
    if (problem) add(['hosts', alias, 'deploy_path'], problem);
  }
  if (problems.length) throw configError(file, problems);
  if (!config.artifacts.store.startsWith('s3://'))
    config.artifacts.store = path.resolve(dir, config.artifacts.store);
  return { file, dir, config, secrets: [...secrets], notes: found.notes ?? [] };
}

/** The real path of `p`: symlinks of the part that exists resolved, the rest appended. */
function realPath(p: string): string {
  const missing: string[] = [];
  for (let at = p; ; at = path.dirname(at)) {
    try {
      return path.join(fs.realpathSync.native(at), ...missing.reverse());
    } catch {
      if (at === path.dirname(at)) return p;
      missing.push(path.basename(at));
    }
  }
}

const within = (inner: string, outer: string): boolean =>
  inner === outer || inner.startsWith(outer.endsWith('/') ? outer : `${outer}/`);

/**
 * A relative `deploy_path` of a local host is checked once it is resolved (and its symlinks
 * followed), where the schema could only see its text: `../..` may well be `/`, and a path
 * inside `source` would have every deploy upload the previous releases into the next.
 */
function localDeployPathProblem(deployPath: string, source: string): string | undefined {
  const real = realPath(deployPath);
  if (SYSTEM_DIRS.includes(real)) return `resolves to ${real}, a system directory`;
  const src = realPath(source);
  if (within(real, src))
    return `resolves to ${real}, inside \`source\` (${src}): every deploy would upload the releases before it; choose a directory outside it`;
  return undefined;
}

/** Checks of a value within its type: a number's range, a string's length or pattern. */
const FORM_CHECKS = new Set<string>(['too_small', 'too_big', 'invalid_format', 'not_multiple_of']);

/** The keys every alternative of a union of mappings reports as unknown. */
function keysNoFormTakes(branches: readonly (readonly z.core.$ZodIssue[])[]): string[] {
  const unknownIn = (branch: readonly z.core.$ZodIssue[]) =>
    branch.flatMap((i) => (i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : []));
  const [first = [], ...rest] = branches.map(unknownIn);
  return first.filter((k) => rest.every((keys) => keys.includes(k)));
}

const sameIssue = (a: z.core.$ZodIssue, b: z.core.$ZodIssue): boolean =>
  a.code === b.code && a.message === b.message && keyPath(a.path as Path) === keyPath(b.path as Path);

/** "a mapping here has `run` (with local, once) or `task` (with once)". */
function describeForms(forms: ReturnType<typeof keyForms>): string {
  const one = (f: (typeof forms)[number]) =>
    f.required.map((k) => `\`${k}\``).join(' and ') +
    (f.optional.length > 0 ? ` (with ${f.optional.join(', ')})` : '');
  return `a mapping here has ${forms.map(one).join(' or ')}`;
}

function valueAt(root: unknown, at: Path): unknown {
  return at.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as any)[k] : undefined), root);
}

/**
 * A value that came from the environment is named by its variables, never quoted. Any other is
 * masked, then quoted, then cut to fit the line, in that order: cut or quoted first, a secret
 * in it (the SSH key's passphrase typed in by hand) would no longer match the mask.
 */
function describe(v: unknown, mask: Mask, fromEnv?: readonly string[]): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (fromEnv?.length) return `${typeof v} from ${fromEnv.map((n) => `$${n}`).join(', ')}`;
  const quoted = (t: string) => String(JSON.stringify(typeof v === 'string' ? mask(t) : v));
  return `${typeof v} ${clipMasked(quoted, String(v), 40)}`;
}

function configError(file: string, problems: ConfigProblem[]): DeployError {
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return new DeployError('ECONFIG', {
    file,
    count: problems.length,
    problems,
    list: problems.map(formatProblem),
  });
}

export function loadConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  overrides: readonly Override[] = [],
): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new DeployError('ENOCONFIG', {
      file,
      reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message,
    });
  }
  return parseConfig(text, file, env, overrides);
}
