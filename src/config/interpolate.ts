import { MIN_ENV_SECRET } from './secrets.js';

export interface InterpolationProblem {
  path: (string | number)[];
  message: string;
}

/** What interpolation found besides the values: missing variables, secrets, and where each variable went. */
export interface Interpolation {
  problems: InterpolationProblem[];
  secrets: Set<string>;
  /** Names of the variables read into each string, keyed by its path joined with NUL. */
  origins: Map<string, string[]>;
}

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export const originKey = (path: readonly (string | number)[]): string => path.join('\0');

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed document.
 * Values read from the environment are collected as secrets so that output can mask them.
 */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  found: Interpolation,
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(PATTERN, (_m, name: string, fallback: string | undefined) => {
      const got = env[name];
      if (got !== undefined && got !== '') {
        if (got.length >= MIN_ENV_SECRET) found.secrets.add(got);
        const key = originKey(path);
        found.origins.set(key, [...(found.origins.get(key) ?? []), name]);
        return got;
      }
      if (fallback !== undefined) return fallback;
      found.problems.push({
        path,
        message: `environment variable ${name} is not set; export it or write \${${name}:-default}`,
      });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, found, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, env, found, [...path, k])]),
    );
  }
  return value;
}
