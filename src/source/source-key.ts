import { createHash } from 'node:crypto';
import os from 'node:os';
import { SETTLE_MS } from './hash-cache.js';
import type { SourceInfo } from './source-info.js';

/**
 * A digest of the source as this machine reads it now: every entry's path, type and mode, a
 * symlink's target, and for a file everything lstat says of it (the hash cache's key: any write
 * changes the ctime) or its content id in a commit or an artifact; plus REVISION, the directory
 * and this machine's name. A `skip_unchanged` run that compared the source with the live release
 * and found them alike records it (layout/finished.ts): a later run that reads the same key from
 * the same untouched directory knows its files are those, without hashing or comparing them. A
 * key from another machine or checkout never matches; it only saves time.
 *
 * Undefined when a file cannot be told apart from a later write to it: no inode and ctime and
 * no content id, or written within the clock's resolution, as the hash cache refuses such files.
 */
export function sourceKey(source: SourceInfo, now = Date.now()): string | undefined {
  const known = keys.get(source);
  if (known !== undefined) return known || undefined;
  const key = digest(source, now);
  keys.set(source, key ?? '');
  return key;
}

/**
 * How long after its last write a file's lstat is sure to change with the next write. Sub-second
 * mtime and ctime (ext4, xfs, btrfs: the kernel's clock tick, a few ms) leave no doubt after a
 * tenth of a second: the comparison hashes the file (or finds its hash by the same lstat) after
 * the key is taken, so a write the key cannot see is one the comparison saw too. A whole second in
 * either may be a coarse file system (FAT keeps mtime to 2 s), as the hash cache assumes for every
 * file.
 */
const settleOf = (mtimeMs: number, ctimeMs: number): number =>
  mtimeMs % 1000 !== 0 && ctimeMs % 1000 !== 0 ? 100 : SETTLE_MS;

function digest(source: SourceInfo, now: number): string | undefined {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify([os.hostname(), source.root, source.revision ?? null, source.artifact?.id ?? null]),
  );
  let rows = '';
  for (const e of source.entries) {
    // A directory or a symlink is what its entry says; a file, what its bytes are.
    const file = e.type === 'file';
    if (file && e.oid === undefined) {
      if (e.ino === undefined || e.ctimeMs === undefined) return undefined;
      if (now - Math.max(e.mtimeMs, e.ctimeMs) < settleOf(e.mtimeMs, e.ctimeMs)) return undefined;
    }
    const identity = file ? [e.size, e.mtimeMs, e.ino, e.ctimeMs, e.oid] : [];
    // A JSON array per entry: no name can be read as two.
    const f = [e.path, e.type, e.mode, e.linkTarget, e.tracked, ...identity];
    rows += `${JSON.stringify(f.map((v) => v ?? null))}\n`;
    if (rows.length > 1 << 16) {
      hash.update(rows);
      rows = '';
    }
  }
  return hash.update(rows).digest('hex').slice(0, 32);
}

const keys = new WeakMap<SourceInfo, string>();
