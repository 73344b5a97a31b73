import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  applyDelta,
  decodeListing,
  decodeListingAhead,
  dropListingAhead,
  sha256Hex,
} from '../../../src/source/listing.js';

afterEach(() => dropListingAhead());

const listing = (records: string[]): Buffer =>
  Buffer.concat(
    [...records]
      .map((r) => Buffer.from(r))
      .sort(Buffer.compare)
      .flatMap((r) => [r, Buffer.from([0])]),
  );

/** The probe's delta from `before` to `after`, sent against `before`. */
function wireOf(before: string[], after: string[]) {
  const delta = [
    ...after.filter((r) => !before.includes(r)).map((r) => `+${r}\0`),
    ...before.filter((r) => !after.includes(r)).map((r) => `-${r}\0`),
  ].join('');
  return {
    base: sha256Hex(listing(before)),
    digest: sha256Hex(listing(after)),
    data: gzipSync(Buffer.from(delta)).toString('base64'),
  };
}

/** Real records (layout/live-listing.ts) over a few paths, so that two records often name one path. */
const rec = fc
  .tuple(
    fc.constantFrom('a', 'b', 'a/x', 'a/y', 'c\td', 'é'),
    fc.constantFrom('f', 'd', 'l'),
    fc.integer({ min: 0, max: 3 }),
  )
  .map(([p, type, n]) =>
    type === 'f'
      ? `f\t644\t${n}\t170000000${n}.5\t2049:${100 + n}\t1000\t\t${p}`
      : type === 'd'
        ? `d\t75${n}\t\t\t\t1000\t\t${p}`
        : `l\t777\t\t\t\t1000\t${Buffer.byteLength(p)}\t${p}target${n}`,
  );

const sorted = (m: ReadonlyMap<string, unknown> | undefined) =>
  m && [...m].sort(([a], [b]) => (a < b ? -1 : 1));

describe('a listing put together from the reference decoded ahead', () => {
  it('decodes to what the whole listing decodes to, for any reference and change', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(rec, { maxLength: 12 }),
        fc.array(fc.boolean(), { maxLength: 12 }),
        fc.uniqueArray(rec, { maxLength: 6 }),
        (before, dropped, added) => {
          const after = [
            ...before.filter((_, i) => !dropped[i]),
            ...added.filter((a) => !before.includes(a)),
          ];
          const reference = listing(before);
          const built = applyDelta(reference, wireOf(before, after));
          expect(built?.equals(listing(after))).toBe(true);
          dropListingAhead();
          const whole = decodeListing(built);
          decodeListingAhead(reference);
          expect(sorted(decodeListing(built))).toEqual(sorted(whole));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is the reference’s entries with the delta’s exchanged: what did not change is not decoded again', () => {
    const before = [
      'f\t644\t1\t1.0\t1:1\t0\t\tkept',
      'f\t644\t1\t1.0\t1:2\t0\t\tchanged',
      'd\t755\t\t\t\t0\t\tgone',
    ];
    const live = [
      'f\t644\t1\t1.0\t1:1\t0\t\tkept',
      'f\t644\t2\t2.0\t1:3\t0\t\tchanged',
      'd\t755\t\t\t\t0\t\tnew',
    ];
    const spare = ['f\t644\t1\t1.0\t1:1\t0\t\tkept'];
    const reference = listing(before);
    decodeListingAhead(reference);
    const tree = decodeListing(applyDelta(reference, wireOf(before, live)))!;
    const spareTree = decodeListing(applyDelta(reference, wireOf(before, spare)))!;
    expect([...tree.keys()].sort()).toEqual(['changed', 'kept', 'new']);
    expect(tree.get('changed')).toMatchObject({ size: 2, id: '1:3' });
    expect([...spareTree.keys()]).toEqual(['kept']);
    // Both hold the one entry decoded ahead.
    expect(tree.get('kept')).toBe(spareTree.get('kept'));

    dropListingAhead();
    const again = decodeListing(applyDelta(reference, wireOf(before, live)))!;
    expect(again.get('kept')).not.toBe(tree.get('kept'));
    expect(again.get('kept')).toEqual(tree.get('kept'));
  });

  it('is not used for a listing built from another reference, nor from a reference naming a path twice', () => {
    const before = ['f\t644\t1\t1.0\t1:1\t0\t\tkept'];
    const reference = listing(before);
    decodeListingAhead(listing(['f\t644\t1\t1.0\t1:1\t0\t\tkept', 'd\t755\t\t\t\t0\t\tother']));
    const tree = decodeListing(applyDelta(reference, wireOf(before, [...before, 'd\t755\t\t\t\t0\t\tnew'])))!;
    expect([...tree.keys()].sort()).toEqual(['kept', 'new']);

    const twice = ['f\t644\t1\t1.0\t1:1\t0\t\tp', 'f\t644\t2\t1.0\t1:1\t0\t\tp'];
    decodeListingAhead(listing(twice));
    const a = decodeListing(applyDelta(listing(twice), wireOf(twice, twice)))!;
    dropListingAhead();
    expect(a).toEqual(decodeListing(listing(twice)));
  });
});
