import { describe, it, type TestContext } from 'vitest';

/**
 * A test whose requirement (a tool, root, a mount) is missing is never passed off as run. In CI it
 * fails, because `.ci/run` installs everything the suite needs; on a developer's machine it is
 * skipped with the reason, and vitest lists it as skipped.
 */
export const inCi = (): boolean => !!process.env.CI;

/** `describe` for a suite that needs something this machine may lack; `missing` says what, or is undefined. */
export function describeNeeding(missing: string | undefined, name: string, body: () => void): void {
  if (!missing) {
    describe(name, body);
    return;
  }
  if (inCi()) {
    describe(name, () => {
      it('has what it needs to run', () => {
        throw new Error(`${name} cannot run here: ${missing}`);
      });
    });
    return;
  }
  describe.skip(`${name} (not run: ${missing})`, body);
}

/** The same inside a test, for a requirement only trying can tell (a mount, a file attribute). */
export function needs(ctx: TestContext, missing: string | undefined): void {
  if (!missing) return;
  if (inCi()) throw new Error(`cannot run here: ${missing}`);
  ctx.skip(`not run: ${missing}`);
}
