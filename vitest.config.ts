import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e files each start their own sshd; two cores, so keep the fan-out modest.
    maxWorkers: 2,
    pool: 'forks',
    // One temporary root per run, removed at the end whatever the outcome; then the fault
    // scenarios' rows, which write or check docs/reliability.md.
    globalSetup: ['test/support/temp-root.ts', 'test/faults/support/reliability-setup.ts'],
    // In CI a skipped test fails the run (test/support/no-skips-reporter.ts).
    reporters: process.env.CI ? ['default', './test/support/no-skips-reporter.ts'] : ['default'],
  },
});
