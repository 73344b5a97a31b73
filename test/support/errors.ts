import { expect } from 'vitest';
import { isDeployError, type ErrorDetails } from '../../src/definitions/errors.js';
import { formatError } from '../../src/ui/print-error.js';
import type { Sanitiser } from '../../src/ui/sanitise.js';

/**
 * The ECONFIG that `load` throws (exit 2, every problem at once). Anything else thrown fails the
 * test, and so does a configuration that loads.
 */
export function configError(load: () => unknown): ErrorDetails['ECONFIG'] {
  try {
    load();
  } catch (e) {
    if (!isDeployError(e, 'ECONFIG')) throw e;
    expect(e.exitCode).toBe(2);
    return e.details;
  }
  throw new Error('expected a config error');
}

/** The problems as printed: `file:line:column: key: message`. */
export const configProblems = (load: () => unknown): string[] => configError(load).list;

/** What a person reads of the error `fn` throws (`formatError`); fails the test when nothing is thrown. */
export function printedError(fn: () => unknown, out?: Sanitiser): string {
  try {
    fn();
  } catch (e) {
    return formatError(e, out);
  }
  throw new Error('expected an error');
}
