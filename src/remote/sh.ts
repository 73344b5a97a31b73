import { DeployError } from '../definitions/errors.js';
import { quote } from '../definitions/shell-quote.js';

// The quoting itself sits in definitions/, where an error's hint can print a command with it.
export { quote };

/** Only this module holds it, so only `sh`, `lines` and `sh.join` can make trusted text. */
const TRUSTED: unique symbol = Symbol('trusted shell text');

/**
 * A piece of shell text that is already safe to splice: literal template text,
 * or the result of another `sh` call. Everything else is quoted. There is no way to
 * turn a plain string into one: a literal is written as sh`literal`.
 */
export class ShellText {
  readonly text: string;
  constructor(token: typeof TRUSTED, text: string) {
    if (token !== TRUSTED) throw new TypeError('ShellText is made by sh`…`, never from a plain string');
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

export type ShellValue = string | number | ShellText | readonly (string | number | ShellText)[];

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
function template(strings: TemplateStringsArray, ...values: ShellValue[]): ShellText {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new ShellText(TRUSTED, out);
}

/** What may stand between joined fragments: a fixed set of operators, never a value. */
type Separator = ' && ' | ' || ' | '; ' | '\n' | ' ' | '|' | ' -o ';

/** Joins trusted fragments with an operator; `empty` stands in when there are none. */
function join(parts: readonly ShellText[], separator: Separator, empty?: ShellText): ShellText {
  for (const p of parts) if (!(p instanceof ShellText)) throw new TypeError('sh.join takes sh`…` fragments');
  if (parts.length === 0 && empty) return empty;
  return new ShellText(TRUSTED, parts.map((p) => p.text).join(separator));
}

export const sh = Object.assign(template, { join });

/** Joins trusted fragments line by line; false, undefined and null are left out. */
export function lines(...parts: (ShellText | false | undefined | null)[]): ShellText {
  return join(
    parts.filter((p): p is ShellText => p instanceof ShellText),
    '\n',
  );
}
