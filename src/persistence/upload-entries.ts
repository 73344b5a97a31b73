import type { SourceEntry } from '../source/scan.js';
import type { Persistence } from './detect.js';

/** The shared path (dir or file) that `p` is, or lies under; undefined when it is the release's own. */
function sharedPathOf(p: string, shared: readonly string[], under: readonly string[]): string | undefined {
  for (let i = 0; i < shared.length; i++) if (p === shared[i] || p.startsWith(under[i]!)) return shared[i];
  return undefined;
}

/**
 * What one host's release is built from: the source without the local contents of shared paths,
 * which live on the server (a developer's .env, logs, sessions, SQLite database or pid files must
 * never reach production's shared/). The one exception seeds a shared path that no deploy has
 * seeded on this host yet (`unseeded`, from its probe), once: a shared dir's git-tracked files
 * (the framework's skeleton, .gitkeep files), or an entry the user marked `seed_shared`.
 */
export function uploadEntries(
  entries: readonly SourceEntry[],
  p: Pick<Persistence, 'shared_dirs' | 'shared_files' | 'seed_shared'>,
  unseeded: ReadonlySet<string>,
): SourceEntry[] {
  const dirs = new Set(p.shared_dirs);
  const shared = [...p.shared_dirs, ...p.shared_files.map((f) => f.path)];
  if (shared.length === 0) return [...entries];
  const under = shared.map((s) => `${s}/`);
  // Computed once per entry: both passes below need it.
  const sharedOf = entries.map((e) => sharedPathOf(e.path, shared, under));
  const seedAll = new Set(p.seed_shared);
  const seedsFile = (e: SourceEntry, s: string): boolean =>
    unseeded.has(s) && e.type !== 'dir' && (seedAll.has(s) || (dirs.has(s) && e.tracked === true));
  // Directories inside a shared dir travel only as the parents of files that seed it.
  const neededDirs = new Set<string>();
  entries.forEach((e, at) => {
    const s = sharedOf[at];
    if (s === undefined || !seedsFile(e, s)) return;
    for (let i = e.path.lastIndexOf('/'); i >= s.length; i = e.path.lastIndexOf('/', i - 1)) {
      neededDirs.add(e.path.slice(0, i));
    }
  });
  return entries.filter((e, at) => {
    const s = sharedOf[at];
    if (s === undefined) return true;
    return e.type === 'dir' ? neededDirs.has(e.path) || (seedAll.has(s) && unseeded.has(s)) : seedsFile(e, s);
  });
}
