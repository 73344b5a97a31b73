import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  REFERENCE_FILE,
  REGENERATE_COMMAND,
  SCHEMA_COMMENT,
  SCHEMA_FILE,
  buildJsonSchema,
  renderJsonSchema,
  type JsonSchema,
} from '../../../src/config/json-schema.js';
import { parseConfig } from '../../../src/config/load.js';
import { renderReference } from '../../../src/config/reference-doc.js';
import { isDeployError } from '../../../src/definitions/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const BAD = 'test/fixtures/bad-configs';

// Formats (`uri`) are checked by zod; the editor-facing schema only needs structure here.
const validate = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).compile(
  JSON.parse(read(SCHEMA_FILE)) as JsonSchema,
);

function zodProblems(text: string, file: string): string[] {
  try {
    parseConfig(text, file, {});
  } catch (e) {
    if (isDeployError(e, 'ECONFIG')) return e.details.list;
    throw e;
  }
  return [];
}

/** A document the JSON Schema accepts; an unparsable one is rejected by both sides anyway. */
function schemaAccepts(text: string): boolean {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return false;
  }
  return validate(doc);
}

describe('generated files are current', () => {
  it(`${SCHEMA_FILE} matches the zod schema`, () => {
    expect(
      read(SCHEMA_FILE) === renderJsonSchema(),
      `${SCHEMA_FILE} is stale: run \`${REGENERATE_COMMAND}\``,
    ).toBe(true);
  });

  it(`${REFERENCE_FILE} matches the zod descriptions`, () => {
    expect(
      read(REFERENCE_FILE) === renderReference(buildJsonSchema()),
      `${REFERENCE_FILE} is stale: run \`${REGENERATE_COMMAND}\``,
    ).toBe(true);
  });
});

describe('the JSON Schema', () => {
  it('describes every key', () => {
    const missing: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (!node || typeof node !== 'object') return;
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}[${i}]`));
      const props = (node as JsonSchema).properties as Record<string, JsonSchema> | undefined;
      for (const [k, v] of Object.entries(props ?? {})) if (!v.description) missing.push(`${at}.${k}`);
      // if/else only restate a key's rule; the key is described where it is declared.
      for (const [k, v] of Object.entries(node))
        if (!['if', 'then', 'else'].includes(k)) walk(v, `${at}/${k}`);
    };
    walk(buildJsonSchema(), '');
    expect(missing, 'add .describe() to these keys in src/config/').toEqual([]);
  });

  it('deploy.example.yml starts with the editor schema line and is valid for both schemas', () => {
    const text = read('deploy.example.yml');
    expect(text.split('\n')[0]).toBe(SCHEMA_COMMENT);
    expect(schemaAccepts(text), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(zodProblems(text, path.join(ROOT, 'deploy.example.yml'))).toEqual([]);
  });

  it('deploy.example.yml names every key of deploy.yml and of a host, in use or commented out', () => {
    const text = read('deploy.example.yml');
    const schema = JSON.parse(read(SCHEMA_FILE)) as {
      properties: Record<string, unknown> & { hosts: { additionalProperties: { properties: object } } };
    };
    const keys = [
      ...Object.keys(schema.properties),
      ...Object.keys(schema.properties.hosts.additionalProperties.properties),
    ];
    const missing = keys.filter((k) => !new RegExp(`^[\\s#-]*(?:\\{ )?${k}:`, 'm').test(text));
    expect(missing).toEqual([]);
  });

  it('accepts the demo config', () => {
    const rel = 'examples/laravel-app/deploy.yml';
    expect(schemaAccepts(read(rel)), JSON.stringify(validate.errors)).toBe(true);
    expect(zodProblems(read(rel), path.join(ROOT, rel))).toEqual([]);
  });
});

describe('the bad-config corpus', () => {
  const files = fs.readdirSync(path.join(ROOT, BAD)).filter((f) => f.endsWith('.yml'));

  it('has at least ten configs', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files)('%s: zod reports the expected problem and the JSON Schema agrees', (name) => {
    const file = path.join(ROOT, BAD, name);
    const text = fs.readFileSync(file, 'utf8');
    const expected = /^# expect: (.+)$/m.exec(text)?.[1]?.trim();
    expect(expected, `${name} needs a \`# expect: <part of the error>\` line`).toBeTruthy();
    const problems = zodProblems(text, file);
    expect(problems.join('\n')).toContain(expected);
    // A rule JSON Schema cannot express (a zod refinement) is marked so; everything else must agree.
    const zodOnly = /^# json-schema: zod-only\b/m.test(text);
    expect(
      schemaAccepts(text),
      zodOnly ? 'marked zod-only but the JSON Schema rejects it' : 'the JSON Schema accepts it',
    ).toBe(zodOnly);
  });
});
