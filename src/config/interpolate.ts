export interface InterpolationProblem {
  path: (string | number)[];
  message: string;
}

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed document.
 * Values read from the environment are collected as secrets so that output can mask them.
 */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: InterpolationProblem[],
  secrets: Set<string>,
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(PATTERN, (_m, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') {
        if (found.length >= 4) secrets.add(found);
        return found;
      }
      if (fallback !== undefined) return fallback;
      problems.push({
        path,
        message: `environment variable ${name} is not set; export it or write \${${name}:-default}`,
      });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, problems, secrets, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, env, problems, secrets, [...path, k])]),
    );
  }
  return value;
}
