import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A ceiling for a hung test, not a speed check: a CI machine ran the e2e files about twice as
    // slowly as ours, and a test of a dozen deploys must not fail for that.
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // e2e files each start their own sshd; two cores, so keep the fan-out modest.
    maxWorkers: 2,
    pool: 'forks',
    // The fault scenarios' rows, which write or check docs/reliability.md; then one temporary
    // root per run. Teardowns run last-first, and one that throws (a stale reliability.md) stops
    // those after it: the root's removal goes first.
    globalSetup: ['test/faults/support/reliability-setup.ts', 'test/support/temp-root.ts'],
    // In CI a skipped test fails the run (test/support/no-skips-reporter.ts).
    reporters: process.env.CI ? ['default', './test/support/no-skips-reporter.ts'] : ['default'],
  },
});
