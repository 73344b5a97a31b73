import fs from 'node:fs';
import path from 'node:path';
import { git, nulFields, type GitLocation } from './git.js';

type ChangeKind =
  | 'modified'
  | 'added'
  | 'deleted'
  | 'untracked'
  | 'unmerged'
  // Marked in the index so that `git status` does not look at it: the work tree may lack it
  // (sparse checkout) or hold another version, unseen.
  | 'skip-worktree'
  | 'assume-unchanged';

/** An uncommitted change under the source, as `git status` reports it. */
export interface Change {
  /** Relative to the source. */
  path: string;
  kind: ChangeKind;
}

/** What git says about a source directory inside a work tree. */
export interface WorkTreeView {
  /**
   * What git ignores, relative to the source: a directory ends in `/` and stands for everything
   * in it (git lists an ignored directory once, without its contents).
   */
  ignored: ReadonlySet<string>;
  /** Files and symlinks in git's index, and every directory that holds one. */
  tracked: ReadonlySet<string>;
  changes: readonly Change[];
  /** Blob ids of tracked files the work tree holds unchanged (only when asked for). */
  blobs?: ReadonlyMap<string, string>;
  /** Submodules (gitlinks) in the index, when it was read with `--stage`. */
  gitlinks?: readonly string[];
}

/** ls-files -v tags: S skip-worktree, a lower-case letter assume-unchanged. */
function hiddenBy(tag: string): ChangeKind | undefined {
  if (tag === 'S' || tag === 's') return 'skip-worktree';
  return tag >= 'a' && tag <= 'z' ? 'assume-unchanged' : undefined;
}

function kindOf(xy: string): ChangeKind {
  if (xy === '??') return 'untracked';
  if (xy.includes('U') || xy === 'AA' || xy === 'DD') return 'unmerged';
  if (xy.includes('D')) return 'deleted';
  if (xy[0] === 'A') return 'added';
  return 'modified';
}

/**
 * Reads the status and the index of the source's subtree in two git calls, run together.
 * `--ignored=matching` names what an ignore rule matches (an ignored directory once, not its
 * contents); `--no-renames` keeps one path per entry and spares the rename search.
 *
 * git's status stops at a submodule, whose files the upload of the directory sends all the
 * same: a checked-out submodule is read the same way, so that what its own .gitignore leaves
 * out (a theme's node_modules/, a plugin's .env) stays home too. Its changes are not added: the
 * source's status already names the submodule as modified.
 */
export async function readWorkTreeView(
  source: string,
  loc: GitLocation,
  withBlobs = false,
): Promise<WorkTreeView> {
  const [status, index] = await Promise.all([
    git(source, [
      'status',
      '--porcelain=v1',
      '-z',
      '--no-renames',
      '--ignored=matching',
      '--untracked-files=normal',
      '--',
      '.',
    ]),
    git(source, ['ls-files', '-z', '-v', '--cached', '--stage', '--', '.']),
  ]);
  const view = parseWorkTreeView(status, index, loc.prefix, true);
  const ignored = new Set(view.ignored);
  const tracked = new Set(view.tracked);
  for (const link of view.gitlinks ?? []) {
    const dir = path.join(source, link);
    // Not initialised (no checkout): an empty directory, nothing in it to leave out.
    if (!fs.existsSync(path.join(dir, '.git'))) continue;
    const inner = await readWorkTreeView(dir, { ...loc, prefix: '' });
    for (const p of inner.ignored) ignored.add(`${link}/${p}`);
    for (const p of inner.tracked) tracked.add(`${link}/${p}`);
  }
  return { ...view, ignored, tracked, blobs: withBlobs ? view.blobs : undefined };
}

/**
 * Pure: `git status --porcelain=v1 -z` (paths from the top) and `git ls-files -z -v` (paths from
 * the source, each after its tag and a space; with `--stage`, "<tag> <mode> <blob> <stage>\t<path>").
 */
export function parseWorkTreeView(
  status: Buffer,
  index: Buffer,
  prefix: string,
  staged = false,
): WorkTreeView {
  const ignored = new Set<string>();
  const changes: Change[] = [];
  for (const field of nulFields(status)) {
    // "XY path": two status letters, a space, the path from the top of the work tree.
    const full = field.slice(3);
    if (field.length < 4 || !full.startsWith(prefix)) continue;
    const rel = full.slice(prefix.length);
    if (rel === '') continue;
    const xy = field.slice(0, 2);
    if (xy === '!!') ignored.add(rel);
    // An untracked directory keeps its `/`: so the user reads it, and so ignore rules match it as one.
    else changes.push({ path: rel, kind: kindOf(xy) });
  }
  const tracked = new Set<string>();
  const changed = new Set(changes.map((c) => c.path));
  const blobs = staged ? new Map<string, string>() : undefined;
  const gitlinks: string[] = [];
  for (const tagged of nulFields(index)) {
    const field = tagged.slice(2);
    const hidden = hiddenBy(tagged[0]!);
    let p = field;
    if (staged) {
      const tab = field.indexOf('\t');
      p = field.slice(tab + 1);
      const [mode, oid] = field.slice(0, tab).split(' ');
      if (mode === '160000') gitlinks.push(p);
      // A hidden entry's file is not known to be its blob: it is hashed like any other.
      else if (!changed.has(p) && !hidden) blobs!.set(p, oid!);
    }
    if (p === '') continue;
    if (hidden && !changed.has(p)) changes.push({ path: p, kind: hidden });
    tracked.add(p);
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const dir = p.slice(0, i);
      if (tracked.has(dir)) break;
      tracked.add(dir);
    }
  }
  return { ignored, tracked, changes, blobs, gitlinks: staged ? gitlinks : undefined };
}
