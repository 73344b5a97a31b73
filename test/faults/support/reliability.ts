import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, inject, type TestContext } from 'vitest';
import { inCi, needs } from '../../support/requirements.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** One row of docs/reliability.md: a fault scenario that passed. */
export interface ScenarioResult {
  /** Groups rows in the table, in the order of GROUPS. */
  group: Group;
  scenario: string;
  /** What the runs were: the CLI against the test sshd, the CLI alone, or calls in the test process. */
  how: How;
  /** CLI runs made under the fault (setup deploys and recoveries not counted), or in-process calls. */
  runs: number;
  result: string;
  guarantee: string;
  /** The test file that recorded it, from the repository root (filled in by recordScenario). */
  file: string;
}

export const GROUPS = [
  'connection cuts',
  'concurrency',
  'process death',
  'server-side faults',
  'bad input',
] as const;
type Group = (typeof GROUPS)[number];

export const HOW = {
  sshd: 'CLI over sshd',
  cli: 'CLI, no connection',
  'in-process': 'in process',
} as const;
export type How = keyof typeof HOW;

/** What a rows directory holds besides rows: a fault file that did not run all its scenarios. */
export interface NotRun {
  notRun: string;
  file: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    reliabilityDir: string;
  }
}

const testFile = (): string => path.relative(ROOT, expect.getState().testPath ?? 'unknown');

const write = (name: string, value: object) => {
  const dir = inject('reliabilityDir');
  if (!dir) return;
  const id = name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 120);
  fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(value));
};

/**
 * Called by a scenario after its assertions passed, so only proven rows reach the table.
 * Workers are separate processes: each row is a file the global teardown collects.
 */
export function recordScenario(row: Omit<ScenarioResult, 'file'>): void {
  write(`${row.group}-${row.scenario}`, { ...row, file: testFile() });
}

/**
 * needs() (test/support/requirements.ts) for a fault scenario: outside CI, a scenario that cannot
 * run here is skipped, and the table is then checked row by row instead of whole.
 */
export function scenarioNeeds(ctx: TestContext, missing: string | undefined): void {
  if (missing && !inCi())
    write(`not-run-${ctx.task.name}`, { notRun: missing, file: testFile() } satisfies NotRun);
  needs(ctx, missing);
}
