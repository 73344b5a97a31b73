// Regenerates the files derived from the zod config schema: `npm run schema`.
// Tests fail when they are stale, so commit what this writes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REFERENCE_FILE, SCHEMA_FILE, buildJsonSchema, renderJsonSchema } from '../src/config/json-schema.js';
import { renderReference } from '../src/config/reference-doc.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outputs: [string, string][] = [
  [SCHEMA_FILE, renderJsonSchema()],
  [REFERENCE_FILE, renderReference(buildJsonSchema())],
];
for (const [rel, text] of outputs) {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
  console.log(`wrote ${rel}`);
}
