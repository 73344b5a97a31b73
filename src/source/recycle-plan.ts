import type { RemoteEntry } from './previous-release.js';
import type { SourceEntry } from './scan.js';
import { topMost } from './top-most.js';
import type { UploadPlan } from './upload-plan-types.js';

/**
 * Re-bases a hard-link plan made against the previous release onto the spare (a pruned
 * release renamed into the new one), so the deploy creates no directory the spare already
 * has. Nothing in the spare is trusted for its content: a file stays only when it is the
 * very inode the plan keeps from the previous release (same device and inode); anything
 * else there is removed and linked from the previous release or sent again.
 *
 * Removing first also makes the rest safe: once the spare's extra paths and wrong types are
 * gone, the only symlinks left are ones the source has, which have nothing below them, so
 * neither the links nor tar can reach through a link into shared/.
 */
export function recyclePlan(
  entries: readonly SourceEntry[],
  plan: UploadPlan,
  previous: ReadonlyMap<string, RemoteEntry>,
  spare: ReadonlyMap<string, RemoteEntry>,
): UploadPlan {
  const remove: string[] = [];
  const link: string[] = [];
  const send: SourceEntry[] = [];
  const inSource = new Set<string>();

  for (const e of entries) {
    inSource.add(e.path);
    const s = spare.get(e.path);
    const kept = plan.kept.has(e.path);
    if (e.type === 'dir') {
      const isDir = s?.type === 'dir';
      if (s && !isDir) remove.push(e.path);
      // tar creates a missing directory, and sets the mode of one it finds: directories are never shared inodes.
      if (!kept || !isDir || s.mode !== e.mode) send.push(e);
    } else if (e.type === 'symlink') {
      if (kept && s?.type === 'symlink' && s.link === e.linkTarget) continue;
      if (s) remove.push(e.path);
      send.push(e);
    } else if (plan.placed?.has(e.path)) {
      // In shared/ already: the release gets a link to its entry, not the file.
      if (s) remove.push(e.path);
    } else if (!kept) {
      if (s) remove.push(e.path);
      send.push(e);
    } else {
      if (s?.type === 'file' && s.id === previous.get(e.path)?.id) continue;
      if (s) remove.push(e.path);
      link.push(e.path);
    }
  }
  for (const p of spare.keys()) if (!inSource.has(p)) remove.push(p);

  return {
    ...plan,
    seed: 'recycle',
    send,
    remove: topMost(remove),
    link,
    againstBase: { send: plan.send, remove: plan.remove },
  };
}
