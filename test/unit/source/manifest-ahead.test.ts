import { describe, expect, it } from 'vitest';
import {
  decodeManifest,
  decodeManifestAhead,
  dropManifestAhead,
  encodeManifest,
  MANIFEST_FORMAT,
} from '../../../src/source/manifest.js';

const manifest = (release: string) =>
  encodeManifest({
    format: MANIFEST_FORMAT,
    release,
    created_at: 'now',
    entries: [{ path: 'index.php', type: 'file', mode: 0o644, size: 1, mtime: 1, sha256: 'a'.repeat(64) }],
  });

describe('a manifest decoded ahead, while the probe runs', () => {
  it('is what the plan gets for the same bytes, once', () => {
    const gz = manifest('20260101-000000');
    const ahead = decodeManifestAhead(gz);
    expect(ahead.ok).toBe(true);
    expect(decodeManifest(Buffer.from(gz))).toBe(ahead);
    const again = decodeManifest(gz);
    expect(again).not.toBe(ahead);
    expect(again).toEqual(ahead);
  });

  it('is never given for other bytes, and a wrong guess does not stay', () => {
    const guess = decodeManifestAhead(manifest('20260101-000000'));
    const other = decodeManifest(manifest('20260202-000000'));
    expect(other.ok && other.manifest.release).toBe('20260202-000000');
    expect(decodeManifest(manifest('20260101-000000'))).not.toBe(guess);
    const dropped = decodeManifestAhead(manifest('20260101-000000'));
    dropManifestAhead();
    expect(decodeManifest(manifest('20260101-000000'))).not.toBe(dropped);
  });
});
