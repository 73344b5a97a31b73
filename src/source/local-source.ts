import fs from 'node:fs';
import path from 'node:path';
import ignore from 'ignore';
import type { ContentSource } from './content.js';
import { directoryContent } from './content-directory.js';
import { git, locateGit, type GitLocation } from './git.js';
import { commitContent, listCommit, readCommitFile, readCommitFileSync, type Commit } from './git-commit.js';
import { readWorkTreeView, type Change, type WorkTreeView } from './git-status.js';
import { ALWAYS_EXCLUDED, readIgnorePatterns, scanSource, type ScanFindings } from './scan.js';
import type { SourceInfo } from './source-info.js';

/** The deploy.yml keys that decide what of the source is uploaded. */
export interface SourceSettings {
  exclude: readonly string[];
  respect_gitignore?: boolean;
  include?: readonly string[];
  /** deploy.yml itself, left out when it sits inside the source: it is not part of the application. */
  configFile?: string;
  /** A directory artifact store, left out when it sits inside the source (never upload the store into itself). */
  storeDir?: string;
  /**
   * Shared paths (without `seed_shared`): the upload never sends an untracked file under them (a
   * dir is seeded only from tracked files, once), so such a file is no change it carries.
   */
  unsent?: readonly string[];
}

/** Everything left out of an upload of the directory by name: the repository, `exclude`, .deployignore, deploy.yml. */
export async function uploadPatterns(dir: string, settings: SourceSettings): Promise<string[]> {
  return [...(await readIgnorePatterns(dir, settings.exclude)), ...configPattern(dir, settings)];
}

function configPattern(root: string, settings: SourceSettings): string[] {
  return [settings.configFile, settings.storeDir].flatMap((p) => {
    if (!p) return [];
    const rel = path.relative(root, path.resolve(p));
    return rel === '' || rel.startsWith('..') || path.isAbsolute(rel)
      ? []
      : [`/${rel.split(path.sep).join('/')}`];
  });
}

/**
 * Changes under paths the upload leaves out (exclude, .deployignore, deploy.yml) are not the
 * upload's, nor untracked files under shared paths (`unsent`).
 */
export function uploadedChanges(
  changes: readonly Change[],
  patterns: readonly string[],
  unsent: readonly string[] = [],
): Change[] {
  const ig = ignore().add([...patterns]);
  const inUnsent = (p: string) => unsent.some((u) => p === u || p === `${u}/` || p.startsWith(`${u}/`));
  return changes.filter((c) => !ig.ignores(c.path) && !(c.kind === 'untracked' && inUnsent(c.path)));
}

const headOf = async (dir: string): Promise<string | undefined> =>
  git(dir, ['rev-parse', '--verify', '-q', 'HEAD'])
    .then((b) => b.toString('utf8').trim() || undefined)
    .catch(() => undefined);

export interface TreeOptions {
  /** The directory is a fresh worktree of this commit: REVISION is its sha, its changes are the build's. */
  commit?: Commit;
  /** Ignored entries (and their lstat) before the local build ran, to tell what it wrote. */
  before?: IgnoredSnapshot;
}

/**
 * A directory on this machine as the upload sees it: the scan minus `exclude` and .deployignore,
 * and, in a git work tree with `respect_gitignore` (the default), minus what git ignores except
 * `include`. REVISION is HEAD, `-dirty` when the upload differs from it.
 */
export async function readTreeSource(
  dir: string,
  settings: SourceSettings,
  options: TreeOptions = {},
): Promise<SourceInfo> {
  // A fresh worktree's .deployignore is the commit's, as without local steps: export-ignore
  // may have taken the file out of the checkout, and its patterns still apply.
  const patterns = options.commit
    ? await commitPatterns(options.commit, dir, settings)
    : await uploadPatterns(dir, settings);
  const loc = await locateGit(dir);
  const findings: ScanFindings = { sparse: [] };
  if (!loc) {
    const entries = await scanSource(dir, patterns, undefined, findings);
    return { root: dir, entries, revision: undefined, sparse: findings.sparse };
  }
  const respect = settings.respect_gitignore !== false;
  const include = settings.include ?? [];
  const [view, head] = await Promise.all([readWorkTreeView(dir, loc, !!options.commit), headOf(dir)]);
  // Without respect_gitignore git still says what is tracked: a shared dir is seeded from that alone.
  const scanView = respect ? view : { ...view, ignored: new Set<string>() };
  const entries = await scanSource(dir, patterns, { view: scanView, include }, findings);
  const ignored = respect ? leftOut(view, include) : [];
  const changes = options.commit ? [] : uploadedChanges(view.changes, patterns, settings.unsent);
  const builtButIgnored = options.commit
    ? ignored
    : options.before
      ? ignored.filter((p) => options.before!.changed(p))
      : [];
  const commit = options.commit?.sha ?? head;
  return {
    root: dir,
    entries,
    revision: commit && (options.commit ? commit : commit + (changes.length ? '-dirty' : '')),
    content: options.commit ? worktreeContent(dir, loc, view) : undefined,
    git: { commit, changes, ignored, builtButIgnored },
    sparse: findings.sparse,
  };
}

/** git's ignored entries that `include` does not bring back whole. */
const leftOut = (view: WorkTreeView, include: readonly string[]): string[] =>
  [...view.ignored].filter((p) => !include.some((i) => p.replace(/\/$/, '') === i || p.startsWith(`${i}/`)));

/**
 * Files of a fresh worktree: read from disk, but the hash cache knows the ones the build left as
 * the commit has them by their blob (a worktree's inodes and times are new on every deploy); the
 * build's own output is hashed every time and never cached under a path that is gone tomorrow.
 */
function worktreeContent(dir: string, loc: GitLocation, view: WorkTreeView): ContentSource {
  const blobs = view.blobs ?? new Map<string, string>();
  return {
    ...directoryContent(dir),
    cacheRoot: path.join(loc.commonDir, 'objects'),
    cacheKey: (e) => {
      const oid = e.type === 'file' ? blobs.get(e.path) : undefined;
      return oid
        ? { path: oid, type: 'file' as const, mode: 0, size: e.size, mtimeMs: 0, ctimeMs: 0, ino: 0 }
        : { ...e, ino: undefined };
    },
  };
}

/** A commit of the source's repository, read from git's objects without a checkout. */
export async function readCommitSource(
  c: Commit,
  settings: SourceSettings,
  root: string,
): Promise<SourceInfo> {
  const { entries, substituted } = await listCommit(c, await commitPatterns(c, root, settings));
  return {
    root,
    entries,
    revision: c.sha,
    content: commitContent(c, substituted),
    readFile: (rel) => readCommitFileSync(c, rel),
    git: { commit: c.sha, changes: [], ignored: [], builtButIgnored: [] },
  };
}

/** What an upload of the commit leaves out by name: the repository, `exclude`, the commit's .deployignore, deploy.yml. */
async function commitPatterns(c: Commit, root: string, settings: SourceSettings): Promise<string[]> {
  const deployignore = (await readCommitFile(c, '.deployignore'))?.toString('utf8') ?? '';
  return [
    ...ALWAYS_EXCLUDED,
    ...settings.exclude,
    ...deployignore.split(/\r?\n/),
    ...configPattern(root, settings),
  ];
}

/** The lstat of git's ignored entries before a local build, to name what the build wrote. */
export interface IgnoredSnapshot {
  /** True for an ignored entry that is new, gone or touched since the snapshot (its own lstat). */
  changed(rel: string): boolean;
}

export async function snapshotIgnored(dir: string): Promise<IgnoredSnapshot | undefined> {
  const loc = await locateGit(dir);
  if (!loc) return undefined;
  const view = await readWorkTreeView(dir, loc);
  const seen = new Map<string, string>();
  for (const p of view.ignored) seen.set(p, statKey(path.join(dir, p)));
  return { changed: (rel) => seen.get(rel) !== statKey(path.join(dir, rel)) };
}

function statKey(abs: string): string {
  try {
    const st = fs.lstatSync(abs);
    return `${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
  } catch {
    return 'gone';
  }
}
