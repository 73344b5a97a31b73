import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchPattern, matchPatternList } from '../../../src/ssh/patterns.js';

/** Reference semantics of OpenSSH's match_pattern(): `*` any run, `?` exactly one character. */
const reference = (text: string, pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    's',
  ).test(text);

describe('matchPattern', () => {
  it('handles the cases ssh -G agrees with', () => {
    expect(matchPattern('abc', 'a?c')).toBe(true);
    expect(matchPattern('ac', 'a?c')).toBe(false);
    expect(matchPattern('web.example.com', '*.example.com')).toBe(true);
    expect(matchPattern('example.com', '*.example.com')).toBe(false);
    expect(matchPattern('', '*')).toBe(true);
    expect(matchPattern('a', '')).toBe(false);
    expect(matchPattern('aaab', '*a*b')).toBe(true);
    expect(matchPattern('[h]:22', '[h]:2?')).toBe(true);
    expect(matchPattern('Web', 'web')).toBe(false);
  });

  it('agrees with a regex reference on random inputs', () => {
    const s = fc.string({ unit: fc.constantFrom('a', 'b', '.', '['), maxLength: 8 });
    const p = fc.string({ unit: fc.constantFrom('a', 'b', '.', '[', '*', '?'), maxLength: 6 });
    fc.assert(
      fc.property(s, p, (text, pattern) => matchPattern(text, pattern) === reference(text, pattern)),
      {
        numRuns: 5000,
      },
    );
  });
});

describe('matchPatternList', () => {
  it('lets one negated hit veto the list, and needs a positive hit', () => {
    expect(matchPatternList('web', 'db,web')).toBe('match');
    expect(matchPatternList('web', '*,!web')).toBe('negated');
    expect(matchPatternList('web', '!web,*')).toBe('negated');
    expect(matchPatternList('web', '!db')).toBe('none');
    expect(matchPatternList('WEB', 'web')).toBe('none');
    expect(matchPatternList('WEB', 'w?b', { ignoreCase: true })).toBe('match');
  });
});
