import { MIN_ENV_SECRET } from './secrets.js';

interface InterpolationProblem {
  path: (string | number)[];
  message: string;
}

/** What interpolation found besides the values: missing variables, secrets, and where each variable went. */
export interface Interpolation {
  problems: InterpolationProblem[];
  secrets: Set<string>;
  /** Names of the variables read into each string, keyed by its path joined with NUL. */
  origins: Map<string, string[]>;
  /** Things worth a warning that are not errors (a command whose meaning changed in 0.2). */
  notes?: string[];
}

/** `${VAR}` and `${VAR:-default}`: this machine's environment, in every value but a shell command. */
const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
/** `${{ env.VAR }}`: this machine's environment, everywhere, shell commands included. */
const LOCAL_PATTERN = /\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export const originKey = (path: readonly (string | number)[]): string => path.join('\0');

/**
 * Strings that are shell commands: hook and task steps (a string, or a step's `run`), and a health
 * check's `command`. In them `${…}` belongs to the shell that runs them, exactly as a person
 * writes shell (`for f in *; do echo "${f}"; done`, the server's `${HOME}`); only `${{ env.VAR }}`
 * reads this machine's environment.
 */
export function isShellCommand(path: readonly (string | number)[]): boolean {
  const [top, a, b, c, d] = path;
  const step = (i: unknown, run: unknown, rest: number) =>
    typeof i === 'number' && (rest === 0 || (rest === 1 && run === 'run'));
  if (top === 'hooks') return step(c, d, path.length - 4);
  if (top === 'tasks') return step(b, c, path.length - 3);
  if (top === 'healthcheck') return a === 'command' && path.length === 2;
  if (top === 'hosts') return b === 'healthcheck' && c === 'command' && path.length === 4;
  return false;
}

/**
 * Variables every shell has, whose `${NAME}` in a command was never meant as this machine's
 * value; any other that is set here probably was, before 0.2 (see the README's upgrade note).
 */
const SHELL_OWN =
  /^(HOME|USER|LOGNAME|PATH|SHELL|PWD|OLDPWD|TERM|LANG|LANGUAGE|LC_\w+|TMPDIR|TMP|TEMP|HOSTNAME|IFS|PS\d|UID|EUID|PPID|RANDOM|LINENO|MAIL|EDITOR|VISUAL|PAGER|TZ|DISPLAY|CI|SHLVL|_|SSH_\w+|XDG_\w+|NODE_\w+|npm_\w+|SHIPSHAPE_\w+)$/;

const keyPathOf = (path: readonly (string | number)[]) => path.join('.');

function readLocal(
  name: string,
  env: NodeJS.ProcessEnv,
  found: Interpolation,
  path: (string | number)[],
): string | undefined {
  const got = env[name];
  if (got === undefined || got === '') return undefined;
  if (got.length >= MIN_ENV_SECRET) found.secrets.add(got);
  const key = originKey(path);
  found.origins.set(key, [...(found.origins.get(key) ?? []), name]);
  return got;
}

function interpolateString(
  value: string,
  env: NodeJS.ProcessEnv,
  found: Interpolation,
  path: (string | number)[],
): string {
  const command = isShellCommand(path);
  const local = value.replace(LOCAL_PATTERN, (_m, name: string) => {
    const got = readLocal(name, env, found, path);
    if (got !== undefined) return got;
    found.problems.push({
      path,
      message: command
        ? `environment variable ${name} is not set on this machine; export it, or write \${${name}} to read the server's variable (commands pass \${...} to their shell)`
        : `environment variable ${name} is not set on this machine; export it`,
    });
    return '';
  });
  if (command) {
    for (const [, name] of local.matchAll(PATTERN)) {
      if (SHELL_OWN.test(name!) || env[name!] === undefined || env[name!] === '') continue;
      (found.notes ??= []).push(
        `${keyPathOf(path)}: \${${name}} is the server's variable (hook, task and health check commands pass \${...} to their shell since 0.2), though ${name} is set on this machine: write \${{ env.${name} }} to send this machine's value, or $${name} to keep the server's and silence this warning`,
      );
    }
    return local;
  }
  return local.replace(PATTERN, (_m, name: string, fallback: string | undefined) => {
    const got = readLocal(name, env, found, path);
    if (got !== undefined) return got;
    if (fallback !== undefined) return fallback;
    found.problems.push({
      path,
      message: `environment variable ${name} is not set on this machine; export it or write \${${name}:-default} (a shell variable belongs in a hook or task command, where \${${name}} is left to the shell)`,
    });
    return '';
  });
}

/**
 * Replaces `${VAR}`, `${VAR:-default}` and `${{ env.VAR }}` in every string of a parsed document,
 * but leaves `${…}` in shell commands to their shell (isShellCommand). Values read from the
 * environment are collected as secrets so that output can mask them.
 */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  found: Interpolation,
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') return interpolateString(value, env, found, path);
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, found, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, env, found, [...path, k])]),
    );
  }
  return value;
}
