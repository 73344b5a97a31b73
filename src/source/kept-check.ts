import { createHash } from 'node:crypto';
import type { ManifestEntry } from './manifest.js';
import type { UploadPlan } from './upload-plan-types.js';

/** What a release seeded from the previous one must hold before the archive is extracted into it. */
export interface KeptCheck {
  /** sha256 over the sorted, NUL-ended records (keptRecord) of every kept file and symlink. */
  digest: string;
  count: number;
  /** The kept symlinks: the only links the seeded release may hold. */
  symlinks: string[];
}

/**
 * A file's record holds the size and the whole seconds of mtime the probe saw, not only its
 * path: a file replaced or rewritten in the live release after the probe read it (a hotfix by
 * `sed -i`, the app saving over it) is what `cp -al` links into the new release, and would go
 * live in place of the source's unnoticed. Anything else kept is a symlink: its type and path.
 */
const keptRecord = (e: ManifestEntry): string =>
  e.type === 'file' ? `f\t${e.size}\t${e.mtime}\t${e.path}\0` : `l\t${e.path}\0`;

/**
 * The server's side of keptRecord (stages/upload.ts: seedCheck): find's -printf formats (find
 * reads their escapes), then sed cuts each mtime to its whole seconds, and one before 1970 to 0,
 * as the probe's listing reads them (source/listing.ts), where the kept entries' numbers come from.
 * In a file's record the first `.digits<TAB>` is the mtime's fraction and the first
 * `<TAB>-digits<TAB>` its seconds (a size has neither); without backreferences sed takes a
 * quarter of the time over 10,000 records.
 */
export const KEPT_ON_SERVER = {
  file: 'f\\t%s\\t%T@\\t%P\\0',
  other: '%y\\t%P\\0',
  fraction: '/^f/s/\\.[0-9]*\t/\t/',
  negative: '/^f\t[0-9]*\t-/s/\t-[0-9]*\t/\t0\t/',
};

export function keptCheck(plan: Pick<UploadPlan, 'kept' | 'send'>): KeptCheck {
  // The upload stage and the archive both ask, of the same plan.
  let check = checked.get(plan);
  if (!check) checked.set(plan, (check = computeKeptCheck(plan)));
  return check;
}

const checked = new WeakMap<object, KeptCheck>();

function computeKeptCheck(plan: Pick<UploadPlan, 'kept' | 'send'>): KeptCheck {
  // A kept entry may still be sent (a symlink a recycled spare lacks): tar makes that one.
  const sent = new Set(plan.send.map((e) => e.path));
  const records: Buffer[] = [];
  const symlinks: string[] = [];
  for (const e of plan.kept.values()) {
    if (e.type === 'dir' || sent.has(e.path)) continue;
    records.push(Buffer.from(keptRecord(e), 'utf8'));
    if (e.type === 'symlink') symlinks.push(e.path);
  }
  records.sort(Buffer.compare);
  const hash = createHash('sha256');
  for (const r of records) hash.update(r);
  return { digest: hash.digest('hex'), count: records.length, symlinks };
}
