import { createHash } from 'node:crypto';
import type { UploadPlan } from './upload-plan-types.js';

/** What a release seeded from the previous one must hold before the archive is extracted into it. */
export interface KeptCheck {
  /** sha256 over the sorted, NUL-ended paths of every kept file and symlink. */
  digest: string;
  count: number;
  /** The kept symlinks: the only links the seeded release may hold. */
  symlinks: string[];
}

/**
 * The server lists the seeded release the same way (`find ! -type d -printf '%P\0' | LC_ALL=C
 * sort -z | sha256sum`): byte order, each path ended by NUL, so both sides hash the same bytes.
 */
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
  const paths: Buffer[] = [];
  const symlinks: string[] = [];
  for (const e of plan.kept.values()) {
    if (e.type === 'dir' || sent.has(e.path)) continue;
    paths.push(Buffer.from(`${e.path}\0`, 'utf8'));
    if (e.type === 'symlink') symlinks.push(e.path);
  }
  paths.sort(Buffer.compare);
  const hash = createHash('sha256');
  for (const p of paths) hash.update(p);
  return { digest: hash.digest('hex'), count: paths.length, symlinks };
}
