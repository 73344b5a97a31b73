import { z } from 'zod';
import { RESERVED_NAMES, configSchema, hostSchema } from './schema.js';

export type JsonSchema = { [key: string]: unknown };

/**
 * Where an editor finds the schema. yaml-language-server resolves a relative `$schema` against
 * the YAML file, so this works for a deploy.yml at a project root that installed shipshape with
 * npm, offline, and always matches the installed version (a registry URL would not).
 */
export const SCHEMA_PATH = './node_modules/shipshape/schema/deploy.schema.json';
/** The first line of every deploy.yml we write (`deploy init`, deploy.example.yml). */
export const SCHEMA_COMMENT = `# yaml-language-server: $schema=${SCHEMA_PATH}`;

export const SCHEMA_FILE = 'schema/deploy.schema.json';
export const REFERENCE_FILE = 'docs/configuration.md';
/** Printed by the staleness tests; regenerates both files above. */
export const REGENERATE_COMMAND = 'npm run schema';

const UNBOUNDED = [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];

function override({ zodSchema, jsonSchema }: { zodSchema: z.core.$ZodTypes; jsonSchema: JsonSchema }) {
  const def = zodSchema._zod.def;
  // zod drops defaults of transforming schemas in input mode, but a default is valid input and
  // editors and the reference show it.
  if (def.type === 'default' && jsonSchema.default === undefined) {
    jsonSchema.default = JSON.parse(JSON.stringify(def.defaultValue)) as unknown;
  }
  // z.number().int() bounds itself by MAX_SAFE_INTEGER: noise for a reader.
  for (const k of ['maximum', 'minimum']) {
    if (UNBOUNDED.includes(jsonSchema[k] as number)) delete jsonSchema[k];
  }
  // The host's superRefine is invisible to JSON Schema; its main rule is worth an editor warning.
  if ((zodSchema as unknown) === hostSchema) {
    Object.assign(jsonSchema, {
      if: { properties: { local: { const: true } }, required: ['local'] },
      else: { properties: { deploy_path: { pattern: '^/' } } },
    });
  }
}

/** The JSON Schema of deploy.yml as a user writes it (defaults optional), from the zod schema. */
export function buildJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(configSchema, { io: 'input', override }) as JsonSchema;
  const props = schema.properties as Record<string, JsonSchema>;
  const hosts = props.hosts!;
  hosts.minProperties = 1;
  const reserved = { not: { enum: RESERVED_NAMES } };
  Object.assign(hosts.propertyNames as JsonSchema, reserved);
  const stage = ((hosts.additionalProperties as JsonSchema).properties as Record<string, JsonSchema>).stage;
  if (stage) Object.assign(stage, reserved);
  // Anchors' blocks (`x-web: &web {…}`), which the loader sets aside.
  schema.patternProperties = { '^x-': {} };
  return { $schema: schema.$schema, title: 'shipshape deploy.yml', ...schema };
}

export const renderJsonSchema = (): string => `${JSON.stringify(buildJsonSchema(), null, 2)}\n`;
