import { describe, expect, it } from 'vitest';
import { parseFinished } from '../../../src/layout/finished.js';

describe('parseFinished', () => {
  it('reads a release name and a shape, and nothing else a server may send', () => {
    const shape = 'a'.repeat(32);
    expect(parseFinished(`20261204-101010\t${shape}`)).toEqual({ release: '20261204-101010', shape });
    expect(parseFinished(`../../etc\t${shape}`)).toBeUndefined();
    expect(parseFinished('20261204-101010\t')).toBeUndefined();
    expect(parseFinished(`20261204-101010\t${shape}\u001b[2J`)).toBeUndefined();
    expect(parseFinished('')).toBeUndefined();
  });
});
