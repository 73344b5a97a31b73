import { DeployError } from './errors.js';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * POSIX single-quote quoting. Debian's /bin/sh is dash, which has no `$'…'`,
 * so a quote inside a value closes the quotes, adds `\'` and reopens them.
 */
export function quote(value: string): string {
  if (value.includes('\0')) {
    // Whole: a cut would leave a secret's first characters where the mask no longer finds them.
    throw new DeployError('EQUOTE', { value: JSON.stringify(value) });
  }
  if (value === '') return "''";
  if (SAFE.test(value) && !value.startsWith('-')) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
