import type { z } from 'zod';

type Path = (string | number)[];

// The schema is walked through zod's `def`, whose types are internal: `any` stays in this file.
const unwrap = (s: any): any => {
  while (s?.def && ['optional', 'default', 'pipe', 'nullable'].includes(s.def.type)) {
    s = s.def.type === 'pipe' ? s.def.in : s.def.innerType;
  }
  return s;
};

const isObject = (s: any): boolean => unwrap(s)?.def?.type === 'object';

/** The schema of the value at `at`, unwrapped; in a union, its first mapping form is followed. */
function schemaAt(schema: z.ZodType, at: Path): any {
  let cur: any = schema;
  for (const seg of at) {
    cur = unwrap(cur);
    if (cur?.def?.type === 'object') cur = cur.def.shape[seg];
    else if (cur?.def?.type === 'record') cur = cur.def.valueType;
    else if (cur?.def?.type === 'array') cur = cur.def.element;
    else if (cur?.def?.type === 'union') cur = cur.def.options.find(isObject);
    else return undefined;
  }
  return unwrap(cur);
}

/** Keys a strict object allows, found by walking the schema along a path; used for "did you mean". */
export function knownKeys(schema: z.ZodType, at: Path): string[] {
  let cur = schemaAt(schema, at);
  if (cur?.def?.type === 'union') cur = unwrap(cur.def.options.find(isObject));
  return cur?.def?.type === 'object' ? Object.keys(cur.def.shape) : [];
}

/**
 * The mappings a union at `at` takes, each as the keys it needs and the ones it may have: for a
 * hook step, `run` with `local`, `once`, … and `task` with `once`, ….
 */
export function keyForms(schema: z.ZodType, at: Path): { required: string[]; optional: string[] }[] {
  const cur = schemaAt(schema, at);
  if (cur?.def?.type !== 'union') return [];
  return cur.def.options.filter(isObject).map((o: any) => {
    const keys = Object.entries(unwrap(o).def.shape as Record<string, any>);
    const optional = (s: any) => ['optional', 'default'].includes(s?.def?.type);
    return {
      required: keys.filter(([, s]) => !optional(s)).map(([k]) => k),
      optional: keys.filter(([, s]) => optional(s)).map(([k]) => k),
    };
  });
}

/** The message a union at `at` was given (`z.union([...], { error })`), if it was given one. */
export function unionMessage(schema: z.ZodType, at: Path, issue: z.core.$ZodIssue): string | undefined {
  const cur = schemaAt(schema, at);
  if (cur?.def?.type !== 'union' || typeof cur.def.error !== 'function') return undefined;
  const message: unknown = cur.def.error(issue);
  if (typeof message === 'string') return message;
  return (message as { message?: string } | undefined)?.message;
}
