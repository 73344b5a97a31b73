import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { ScenarioResult } from './reliability.js';
import { RELIABILITY_DOC, renderReliability, staleness } from './reliability-doc.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * vitest globalSetup: hands workers a directory for scenario rows, then after the run either
 * rewrites docs/reliability.md (UPDATE_RELIABILITY=1) or checks it lists what ran. A run that
 * included no fault scenario (a unit test run) leaves the file alone.
 */
export default function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-reliability-'));
  project.provide('reliabilityDir', dir);
  return () => {
    const rows = fs
      .readdirSync(dir)
      .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as ScenarioResult);
    fs.rmSync(dir, { recursive: true, force: true });
    if (rows.length === 0) return;
    const file = path.join(ROOT, RELIABILITY_DOC);
    if (process.env.UPDATE_RELIABILITY === '1') {
      fs.writeFileSync(file, renderReliability(rows));
      return;
    }
    const doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const problems = staleness(doc, rows, false);
    if (problems.length) {
      // vitest reports an error thrown here but still exits 0; the exit code must fail CI.
      process.exitCode = 1;
      throw new Error(
        `${RELIABILITY_DOC} is stale:\n  ${problems.join('\n  ')}\nRun \`UPDATE_RELIABILITY=1 npm run test:faults\`.`,
      );
    }
  };
}
