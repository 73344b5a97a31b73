import { REGENERATE_COMMAND, SCHEMA_COMMENT, type JsonSchema } from './json-schema.js';

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

interface Section {
  title: string;
  description?: string;
  rows: Row[];
}

/** How a map's keys are named in the reference: `hosts.<alias>.port`. */
const PLACEHOLDER: Record<string, string> = { hosts: '<alias>', tasks: '<task>', labels: '<label>' };

const obj = (v: unknown): JsonSchema | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonSchema) : undefined;
const props = (s: JsonSchema): Record<string, JsonSchema> =>
  (obj(s.properties) as Record<string, JsonSchema> | undefined) ?? {};
const code = (v: unknown): string => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
const cell = (t: string): string => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const withoutDescription = (s: JsonSchema): string => JSON.stringify({ ...s, description: undefined });

function typeOf(s: JsonSchema): string {
  if (Array.isArray(s.enum)) return s.enum.map(code).join(' | ');
  if (s.const !== undefined) return code(s.const);
  if (Array.isArray(s.anyOf)) return (s.anyOf as JsonSchema[]).map(typeOf).join(' or ');
  if (Array.isArray(s.type)) return s.type.join(' or ');
  if (s.type === 'array') return `list of ${obj(s.items) ? typeOf(s.items as JsonSchema) : 'anything'}`;
  if (s.type === 'object') {
    const values = obj(s.additionalProperties);
    if (values && !s.properties) return `map of ${typeOf(values)}`;
    const required = (s.required as string[] | undefined) ?? [];
    return required.length ? `mapping with ${required.map(code).join(', ')}` : 'mapping';
  }
  const bounds = [
    s.minimum !== undefined ? `≥ ${String(s.minimum)}` : '',
    s.exclusiveMinimum !== undefined ? `> ${String(s.exclusiveMinimum)}` : '',
    s.maximum !== undefined ? `≤ ${String(s.maximum)}` : '',
  ].filter(Boolean);
  if (s.format === 'uri') return 'URL';
  return [String(s.type ?? 'any'), ...bounds].join(' ');
}

/** The object a key leads to, if it is worth its own section, and how its keys are spelled. */
function nested(key: string, s: JsonSchema): { schema: JsonSchema; prefix: string } | undefined {
  if (s.type === 'object' && s.properties) return { schema: s, prefix: `${key}.` };
  const values = obj(s.additionalProperties);
  const name = key.split('.').at(-1) ?? key;
  if (s.type === 'object' && values?.properties) {
    return { schema: values, prefix: `${key}.${PLACEHOLDER[name] ?? '<name>'}.` };
  }
  return undefined;
}

/** Objects in a list's items (hook steps), each documented as its own form. */
function itemForms(key: string, s: JsonSchema): { schema: JsonSchema; prefix: string }[] {
  const values = obj(s.additionalProperties);
  if (s.type === 'object' && values?.type === 'array') {
    const name = key.split('.').at(-1) ?? key;
    return itemForms(`${key}.${PLACEHOLDER[name] ?? '<name>'}`, values);
  }
  const items = s.type === 'array' ? obj(s.items) : undefined;
  const branches = items ? ((items.anyOf as JsonSchema[] | undefined) ?? [items]) : [];
  return branches
    .filter((b) => b.type === 'object' && b.properties)
    .map((b) => ({ schema: b, prefix: `${key}[].` }));
}

function collect(
  schema: JsonSchema,
  prefix: string,
  title: string,
  out: Section[],
  seen: Map<string, string>,
) {
  const section: Section = { title, description: schema.description as string | undefined, rows: [] };
  out.push(section);
  const later: [string, JsonSchema, string][] = [];
  let entries = Object.entries(props(schema));
  // A map with a fixed set of keys that all take the same value (hook points) reads better as one row.
  const first = entries[0]?.[1];
  if (
    entries.length >= 4 &&
    first &&
    entries.every(([, v]) => withoutDescription(v) === withoutDescription(first))
  ) {
    const placeholder = '<stage>';
    const names = entries.map(([k]) => code(k)).join(', ');
    entries = [
      [placeholder, { ...first, description: `${section.description ?? ''} \`${placeholder}\`: ${names}.` }],
    ];
  }
  for (const [k, v] of entries) {
    const key = `${prefix}${k}`;
    const required = ((schema.required as string[] | undefined) ?? []).includes(k);
    section.rows.push({
      key,
      type: typeOf(v),
      default: v.default !== undefined ? code(v.default) : required ? '**required**' : '',
      description: (v.description as string | undefined) ?? '',
    });
    const child = nested(key, v);
    if (child) later.push([child.prefix, child.schema, key]);
    for (const form of itemForms(key, v)) later.push([form.prefix, form.schema, `${key}[]`]);
  }
  for (const [childPrefix, child, childKey] of later) {
    const form = childKey.endsWith('[]') ? ` (${code(Object.keys(props(child))[0])} form)` : '';
    const title = `\`${childPrefix.replace(/\.$/, '')}\`${form}`;
    // The same shape in a second place (a host's healthcheck, hook steps in tasks) is linked, not repeated.
    const id = withoutDescription(child);
    const same = seen.get(id);
    if (same) {
      section.rows.push({ key: `${childPrefix}…`, type: '', default: '', description: `see ${same}` });
      continue;
    }
    seen.set(id, title);
    collect(child, childPrefix, title, out, seen);
  }
}

/** docs/configuration.md, rendered from the JSON Schema (and so from the zod descriptions). */
export function renderReference(schema: JsonSchema): string {
  const sections: Section[] = [];
  collect(schema, '', 'Top level', sections, new Map());
  const lines = [
    '# Configuration reference',
    '',
    `<!-- Generated from src/config/schema.ts by \`${REGENERATE_COMMAND}\`. Do not edit by hand. -->`,
    '',
    'Every key of `deploy.yml`. Strings may use `${VAR}` and `${VAR:-default}`, read from this',
    "machine's environment, except shell commands (hook and task steps, a health check's `command`):",
    "there `${VAR}` is left to the shell that runs them (the server's variable, or a loop's), and",
    "`${{ env.VAR }}` reads this machine's, as it does in any string. Values of 4 characters or more",
    'read from the environment are masked as `***` in all output. Unknown keys are errors. Merge keys',
    'share settings between hosts: `web2: { <<: *web1, hostname: web2.example.com }` after',
    '`web1: &web1 { … }`. A top-level key starting with `x-` is set aside, a place for an anchor',
    'that is no host itself (`x-web: &web { user: deploy, port: 2222 }`, then `<<: *web` in each).',
    '`-o key=value` (dotted keys, repeatable) overrides a value for one run, checked like the file.',
    'The value is a number, a boolean or `null` as YAML reads one, a list or mapping in flow form',
    "(`-o 'exclude=[a, b]'`), and otherwise the text as typed (`-o 'application=My App #2'`).",
    '`deploy config [selector]` prints the resolved configuration per host.',
    '',
    'Editors that use yaml-language-server (VS Code YAML, Neovim, JetBrains) complete and check',
    'keys when the first line of `deploy.yml` is:',
    '',
    '```yaml',
    SCHEMA_COMMENT,
    '```',
    '',
    'The path is relative to `deploy.yml` and points into the installed package; the schema is',
    'also shipped as `schema/deploy.schema.json` for other tools.',
    '',
  ];
  for (const s of sections) {
    lines.push(`## ${s.title}`, '');
    if (s.description && s.title !== 'Top level') lines.push(s.description, '');
    lines.push('| key | type | default | description |', '| --- | --- | --- | --- |');
    for (const r of s.rows) {
      lines.push(`| \`${cell(r.key)}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.description)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
