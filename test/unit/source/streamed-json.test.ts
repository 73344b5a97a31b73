import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadHashCache } from '../../../src/source/hash-cache.js';
import { encodeManifestFrom, MANIFEST_FORMAT, type ManifestEntry } from '../../../src/source/manifest.js';
import type { SourceEntry } from '../../../src/source/scan.js';

const entry = (i: number): ManifestEntry => ({
  path: `dir/"quoted"\u00e9-${i}`,
  type: 'file',
  mode: 0o644,
  size: i,
  mtime: 1_700_000_000,
  sha256: 'a'.repeat(64),
});

describe('JSON written in pieces', () => {
  it.each([0, 1, 499, 500, 501, 1234])(
    'the manifest of %i entries is the JSON of the whole manifest',
    async (n) => {
      const head = { format: MANIFEST_FORMAT, release: '20260101-000000', created_at: 'now' } as const;
      const entries = Array.from({ length: n }, (_, i) => entry(i));
      const text = gunzipSync(await encodeManifestFrom(head, entries)).toString('utf8');
      expect(text).toBe(JSON.stringify({ ...head, entries }));
    },
  );

  it('the hash cache reads back every row it saved', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-cache-'));
    const env = { SHIPSHAPE_CACHE_DIR: dir };
    const old = Date.now() - 60_000;
    const files: SourceEntry[] = Array.from({ length: 1201 }, (_, i) => ({
      path: i === 7 ? '123' : `a/"b"-${i}`,
      type: 'file',
      mode: 0o644,
      size: i,
      mtimeMs: old,
      ctimeMs: old,
      ino: i + 1,
    }));
    const cache = await loadHashCache('/src', env);
    files.forEach((e, i) => cache.set(e, i.toString(16).padStart(64, '0')));
    await cache.save();
    const again = await loadHashCache('/src', env);
    expect(files.map((e) => again.get(e))).toEqual(files.map((_, i) => i.toString(16).padStart(64, '0')));
    // One damaged hash (not lowercase hex) and the file is not trusted at all: everything is hashed again.
    const [file] = fs.readdirSync(path.join(dir, 'hashes')).map((n) => path.join(dir, 'hashes', n));
    const text = fs.readFileSync(file!, 'utf8');
    fs.writeFileSync(file!, text.replace(`\n${'0'.repeat(63)}5\t`, `\n${'0'.repeat(63)}G\t`));
    const damaged = await loadHashCache('/src', env);
    expect(files.filter((e) => damaged.get(e) !== undefined)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
