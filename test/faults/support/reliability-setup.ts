import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { NotRun, ScenarioResult } from './reliability.js';
import { RELIABILITY_DOC, renderReliability, staleness } from './reliability-doc.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FAULTS = 'test/faults';

/**
 * vitest globalSetup: hands workers a directory for scenario rows; after the run, renders
 * docs/reliability.md from the rows and either writes it (UPDATE_RELIABILITY=1, only from a
 * complete run) or compares it with the committed file. A run without fault scenarios (a unit
 * test run) leaves the file alone.
 */
export default function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-reliability-'));
  project.provide('reliabilityDir', dir);
  return () => {
    const found = fs
      .readdirSync(dir)
      .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as ScenarioResult | NotRun);
    fs.rmSync(dir, { recursive: true, force: true });
    const rows = found.filter((x): x is ScenarioResult => !('notRun' in x));
    if (rows.length === 0) return;
    const notRun = found.filter((x): x is NotRun => 'notRun' in x).map((x) => `${x.file}: ${x.notRun}`);
    const files = fs
      .readdirSync(path.join(ROOT, FAULTS))
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => `${FAULTS}/${f}`);
    const ran = new Set(rows.map((r) => r.file));
    const missing = [...files.filter((f) => !ran.has(f)).map((f) => `${f} did not run`), ...notRun];
    const file = path.join(ROOT, RELIABILITY_DOC);

    const fail = (message: string) => {
      // vitest reports an error thrown here but still exits 0; the exit code must fail CI.
      process.exitCode = 1;
      throw new Error(message);
    };
    if (process.env.UPDATE_RELIABILITY === '1') {
      if (missing.length) {
        fail(
          `${RELIABILITY_DOC} is written only by a run of every fault scenario:\n  ${missing.join('\n  ')}`,
        );
      }
      fs.writeFileSync(file, renderReliability(rows));
      return;
    }
    const doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const problems = staleness(doc, rows, missing.length === 0);
    if (problems.length) {
      fail(
        `${RELIABILITY_DOC} is stale:\n  ${problems.join('\n  ')}\nRun \`UPDATE_RELIABILITY=1 npm run test:faults\` and review the change.`,
      );
    }
    if (missing.length) {
      console.log(
        `${RELIABILITY_DOC}: the ${rows.length} rows that ran match; not checked whole, because\n  ${missing.join('\n  ')}`,
      );
    }
  };
}
