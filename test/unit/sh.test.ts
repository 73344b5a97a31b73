import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quote, sh, ShellText } from '../../src/remote/sh.js';

const tricky = fc.constantFrom(
  "'",
  '"',
  '\\',
  '$(touch pwned)',
  '`id`',
  '*',
  '?',
  '[a]',
  '-n',
  '--',
  '\n',
  ' ',
  '\t',
  '$HOME',
  '${x}',
  '!',
  '~',
  '#',
  ';',
  '&',
  '|',
  '<',
  '>',
  'é',
  '😀',
  "'\\''",
  '%s',
);
const nasty = fc
  .array(fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 12 })), { maxLength: 6 })
  .map((parts) => parts.join('').replace(/\0/g, ''));

/** Runs printf over many quoted words in one shell, so 10,000 cases cost ~100 processes. */
function roundTrip(shell: string, values: string[]): string[] {
  const script = `printf '%s\\0' ${values.map(quote).join(' ')}`;
  const out = execFileSync(shell, ['-c', script], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.split('\0').slice(0, -1);
}

describe('quote', () => {
  it.each(['/bin/sh', '/usr/bin/dash', '/bin/bash'])(
    'round-trips 10,000 random strings through %s',
    (shell) => {
      let cases = 0;
      fc.assert(
        fc.property(fc.array(nasty, { minLength: 100, maxLength: 100 }), (values) => {
          cases += values.length;
          expect(roundTrip(shell, values)).toEqual(values);
        }),
        { numRuns: 100 },
      );
      expect(cases).toBe(10_000);
    },
  );

  it('quotes the empty string as two quotes and leaves plain words alone', () => {
    expect(quote('')).toBe("''");
    expect(quote('/srv/app/releases')).toBe('/srv/app/releases');
    expect(quote("it's")).toBe(`'it'\\''s'`);
  });

  it('always quotes a leading dash so it is never mistaken for an option by a reader', () => {
    expect(quote('-rf')).toBe("'-rf'");
  });

  it('rejects NUL with a clear error', () => {
    expect(() => quote('a\0b')).toThrow(/NUL/);
  });
});

describe('sh', () => {
  it('quotes interpolated values, spreads arrays and keeps literal text', () => {
    const dir = '/srv/my app/$(touch pwned)';
    expect(sh`mkdir -p ${dir} ${['a b', 'c']}`.text).toBe(`mkdir -p '/srv/my app/$(touch pwned)' 'a b' c`);
  });

  it('splices nested sh fragments unchanged', () => {
    const inner = sh`echo ${'x y'}`;
    expect(sh`if true; then ${inner}; fi`.text).toBe(`if true; then echo 'x y'; fi`);
    expect(sh`${sh`$HOME`}`.text).toBe('$HOME');
  });

  it('never trusts a plain string: the constructor is closed, join takes fragments only', () => {
    expect(() => new ShellText(undefined as never, 'rm -rf /')).toThrow(TypeError);
    expect(() => sh.join(['rm -rf /'] as never, ' && ')).toThrow(TypeError);
    expect(sh.join([sh`a ${'b c'}`, sh`d`], ' && ').text).toBe("a 'b c' && d");
    expect(sh.join([], ' && ', sh`true`).text).toBe('true');
  });

  it('never executes command substitution from a value', () => {
    const out = execFileSync('/bin/sh', ['-c', sh`printf %s ${'$(echo pwned)`echo pwned`'}`.text], {
      encoding: 'utf8',
    });
    expect(out).toBe('$(echo pwned)`echo pwned`');
  });
});
