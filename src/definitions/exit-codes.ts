/** Documented in README.md ("Exit codes"); CI scripts depend on these numbers. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  locked: 3,
  rolledBack: 4,
  connection: 5,
  sigint: 130,
  sigterm: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
