import { DeployError } from '../definitions/errors.js';

/**
 * A piece of shell text that is already safe to splice: literal template text,
 * or the result of another `sh` call. Everything else is quoted.
 */
export class ShellText {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type ShellValue = string | number | ShellText | readonly (string | number | ShellText)[];

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * POSIX single-quote quoting. Debian's /bin/sh is dash, which has no `$'…'`,
 * so a quote inside a value closes the quotes, adds `\'` and reopens them.
 */
export function quote(value: string): string {
  if (value.includes('\0')) {
    throw new DeployError('EQUOTE', { value: JSON.stringify(value.slice(0, 40)) });
  }
  if (value === '') return "''";
  if (SAFE.test(value) && !value.startsWith('-')) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function render(value: ShellValue): string {
  if (value instanceof ShellText) return value.text;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new DeployError('EQUOTE', { value: String(value) });
    return String(value);
  }
  if (typeof value === 'string') return quote(value);
  return value.map(render).join(' ');
}

/** Tagged template: literal text is trusted, every `${value}` is quoted, arrays become several words. */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): ShellText {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new ShellText(out);
}

/** Joins trusted fragments line by line. */
export function lines(...parts: (ShellText | false | undefined | null)[]): ShellText {
  return new ShellText(
    parts
      .filter((p): p is ShellText => p instanceof ShellText)
      .map((p) => p.text)
      .join('\n'),
  );
}
