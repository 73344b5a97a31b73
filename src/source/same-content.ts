import { createHash } from 'node:crypto';
import type { ManifestEntry } from './manifest.js';
import type { SourceEntry } from './scan.js';
import { REVISION_FILE, type UploadPlan } from './upload-plan-types.js';

/**
 * Whether a release built from `entries` would hold just what the base release was given: each
 * entry recorded in the base's manifest with its type and mode, each file and symlink kept or
 * placed (so its content matched and the server's copy is still as uploaded), each directory
 * still there (its mode is the writable stage's), nothing recorded that the source lacks, and the
 * same REVISION. Files added to the base on the server are the changes stage's to find.
 */
export function sameAsRecorded(
  entries: readonly SourceEntry[],
  recorded: readonly ManifestEntry[],
  plan: Pick<UploadPlan, 'kept' | 'placed'>,
  revision: string | undefined,
  /** The base as listed on the server now; a directory there may be a shared link (public/ entries). */
  live: ReadonlyMap<string, { type: string }>,
): boolean {
  const byPath = new Map<string, ManifestEntry>();
  for (const m of recorded) byPath.set(m.path, m);
  const revisionRow = byPath.get(REVISION_FILE);
  const revisionHash =
    revision === undefined ? undefined : createHash('sha256').update(`${revision}\n`).digest('hex');
  if (revisionRow?.sha256 !== revisionHash) return false;
  for (const e of entries) {
    const m = byPath.get(e.path);
    if (!m || m.type !== e.type || m.mode !== e.mode || e.path === REVISION_FILE) return false;
    if (e.type === 'dir') {
      const there = live.get(e.path)?.type;
      if (there !== 'dir' && there !== 'symlink') return false;
    } else if (!plan.kept.has(e.path) && !plan.placed?.has(e.path)) return false;
  }
  return entries.length + (revisionRow ? 1 : 0) === byPath.size;
}
