import { createHash } from 'node:crypto';
import type { ManifestEntry } from './manifest.js';
import type { SourceEntry } from './scan.js';
import { REVISION_FILE, type UploadPlan } from './upload-plan-types.js';

/**
 * Whether a release built from `entries` would hold just what the base release was given: each
 * entry recorded in the base's manifest with its type and mode, each file and symlink kept or
 * placed (so its content matched and the server's copy is still as uploaded), nothing recorded
 * that the source lacks, and the same REVISION. What the app wrote into the base since is not
 * the source's and changes nothing here: a release that is not made cannot lose it.
 */
export function sameAsRecorded(
  entries: readonly SourceEntry[],
  recorded: readonly ManifestEntry[],
  plan: Pick<UploadPlan, 'kept' | 'placed'>,
  revision: string | undefined,
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
    if (e.type !== 'dir' && !plan.kept.has(e.path) && !plan.placed?.has(e.path)) return false;
  }
  return entries.length + (revisionRow ? 1 : 0) === byPath.size;
}
