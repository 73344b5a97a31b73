import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';

/** One row of docs/reliability.md: a fault scenario that passed. */
export interface ScenarioResult {
  /** Groups rows in the table, in the order of GROUPS. */
  group: Group;
  scenario: string;
  runs: number;
  result: string;
  guarantee: string;
}

export const GROUPS = [
  'connection cuts',
  'concurrency',
  'process death',
  'server-side faults',
  'bad input',
] as const;
export type Group = (typeof GROUPS)[number];

declare module 'vitest' {
  export interface ProvidedContext {
    reliabilityDir: string;
  }
}

/**
 * Called by a scenario after its assertions passed, so only proven rows reach the table.
 * Workers are separate processes: each row is a file the global teardown collects.
 */
export function recordScenario(row: ScenarioResult): void {
  const dir = inject('reliabilityDir');
  if (!dir) return;
  const id = `${row.group}-${row.scenario}`.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 120);
  fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(row));
}
