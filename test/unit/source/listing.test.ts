import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyDelta, sha256Hex } from '../../../src/source/listing.js';

/** Records as `sort -z` leaves them under LC_ALL=C: byte order, each ended by NUL. */
const listing = (records: Buffer[]): Buffer =>
  Buffer.concat([...records].sort(Buffer.compare).flatMap((r) => [r, Buffer.from([0])]));

/** What the probe's awk sends: `+` for records only the new listing has, `-` for those it lost, in any order. */
const deltaOf = (before: Buffer[], after: Buffer[], order: number[]): Buffer => {
  const key = (r: Buffer) => r.toString('latin1');
  const had = new Set(before.map(key));
  const has = new Set(after.map(key));
  const lines = [
    ...after.filter((r) => !had.has(key(r))).map((r) => Buffer.concat([Buffer.from('+'), r])),
    ...before.filter((r) => !has.has(key(r))).map((r) => Buffer.concat([Buffer.from('-'), r])),
  ];
  const shuffled = lines.map((l, i) => ({ l, k: order[i % order.length]! })).sort((a, b) => a.k - b.k);
  return Buffer.concat(shuffled.flatMap(({ l }) => [l, Buffer.from([0])]));
};

// Any byte but NUL; a record's first byte is its type in a real listing, never + or -.
const record = fc
  .uint8Array({ minLength: 0, maxLength: 12 })
  .map((b) => Buffer.concat([Buffer.from('f'), Buffer.from(b.map((x) => x || 1))]));

describe('a listing rebuilt from a delta', () => {
  it('is byte for byte the listing the server hashed, for any reference and any change', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(record, { maxLength: 40, selector: (r) => r.toString('latin1') }),
        fc.uniqueArray(record, { maxLength: 40, selector: (r) => r.toString('latin1') }),
        fc.array(fc.boolean(), { maxLength: 40 }),
        fc.array(fc.integer(), { minLength: 1, maxLength: 10 }),
        (kept, added, dropped, order) => {
          const before = kept;
          const after = [
            ...kept.filter((_, i) => !dropped[i]),
            ...added.filter((a) => !kept.some((k) => k.equals(a))),
          ];
          const server = listing(after);
          const wire = {
            base: sha256Hex(listing(before)),
            digest: sha256Hex(server),
            data: gzipSync(deltaOf(before, after, order)).toString('base64'),
          };
          expect(applyDelta(listing(before), wire)?.equals(server)).toBe(true);
        },
      ),
    );
  });

  it('is refused when it does not hash to what the server hashed', () => {
    const before = listing([Buffer.from('f\ta'), Buffer.from('f\tb')]);
    const after = listing([Buffer.from('f\ta'), Buffer.from('f\tc')]);
    const data = gzipSync(Buffer.from('+f\tc\0-f\tb\0')).toString('base64');
    expect(applyDelta(before, { digest: sha256Hex(after), data })?.equals(after)).toBe(true);
    expect(applyDelta(before, { digest: sha256Hex(before), data })).toBeUndefined();
    // A reference other than the one the delta was made against.
    const other = listing([Buffer.from('f\ta'), Buffer.from('f\td')]);
    expect(applyDelta(other, { digest: sha256Hex(after), data })).toBeUndefined();
  });
});
