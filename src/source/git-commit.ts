import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import ignore from 'ignore';
import { DeployError } from '../definitions/errors.js';
import type { ContentSource } from './content.js';
import { git, gitEnv, GitError, nulSlices, type GitLocation } from './git.js';
import { BlobStream } from './git-blobs.js';
import {
  attributePath,
  isExportIgnored,
  readExportRules,
  readSubstituted,
  type ExportRules,
} from './git-export.js';
import { notUtf8, shownName, type SourceEntry } from './scan.js';

/** A commit of the repository that holds the source, resolved from a tag, branch or sha. */
export interface Commit {
  sha: string;
  /** Committer time in seconds: every file's mtime, as `git archive` gives it. */
  time: number;
  loc: GitLocation;
}

export async function resolveCommit(loc: GitLocation, ref: string): Promise<Commit> {
  try {
    const out = await git(loc.top, [
      'log',
      '-1',
      '--format=%H %ct',
      '--end-of-options',
      `${ref}^{commit}`,
      '--',
    ]);
    const [sha, time] = out.toString('utf8').trim().split(' ');
    return { sha: sha!, time: Number(time), loc };
  } catch (e) {
    const said = e instanceof GitError ? e.stderr.trim().split('\n')[0]! : String(e);
    throw new DeployError('EREVISION', {
      revision: ref,
      reason: /bad revision|unknown revision|ambiguous argument/.test(said)
        ? `the repository at ${loc.top} has no such commit`
        : said,
    });
  }
}

/** `<sha>:<prefix>`: the tree of the source directory in that commit. */
const treeOf = (c: Commit): string =>
  c.loc.prefix ? `${c.sha}:${c.loc.prefix.replace(/\/$/, '')}` : `${c.sha}^{tree}`;

/** A file of the source directory as the commit holds it, or undefined when it has none. */
export async function readCommitFile(c: Commit, rel: string): Promise<Buffer | undefined> {
  try {
    return await git(c.loc.top, ['cat-file', 'blob', `${c.sha}:${c.loc.prefix}${rel}`]);
  } catch {
    return undefined;
  }
}

/** The same, synchronously: framework detection reads a few small files (package.json) this way. */
export function readCommitFileSync(c: Commit, rel: string): Buffer | undefined {
  try {
    return execFileSync('git', ['cat-file', 'blob', `${c.sha}:${c.loc.prefix}${rel}`], {
      cwd: c.loc.top,
      env: gitEnv(),
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 << 20,
    });
  } catch {
    return undefined;
  }
}

const MODE_OF: Record<string, number> = { '100644': 0o644, '100755': 0o755, '120000': 0o777 };
/** Paths asked of `ignore` before a fresh instance (see scan.ts: it caches every answer). */
const PATHS_PER_MATCHER = 1000;

/**
 * The commit's tree under the source directory as source entries, without a checkout: from
 * `git ls-tree`, minus what the patterns (`exclude`, the commit's .deployignore) leave out, in
 * tree order (a directory before its contents). Files are mode 0644 or 0755 and directories
 * 0755, as a checkout under the usual umask makes them; every mtime is the commit's time. A
 * submodule is an empty directory, as in `git archive`, and as there export-ignore paths are left
 * out; export-subst files and those the attributes convert are git archive's bytes (`substituted`).
 */
export async function listCommit(c: Commit, patterns: readonly string[]): Promise<CommitListing> {
  let out: Buffer;
  try {
    out = await git(c.loc.top, ['ls-tree', '-r', '-t', '-l', '-z', '--full-tree', treeOf(c)]);
  } catch (e) {
    throw new DeployError('EREVISION', {
      revision: c.sha,
      reason: `the source directory ${c.loc.prefix || '.'} is not in that commit (${e instanceof GitError ? e.stderr.trim() : String(e)})`,
    });
  }
  const rules = ignore().add([...patterns]);
  let ig = ignore().add(rules);
  const entries: SourceEntry[] = [];
  const links: { entry: SourceEntry; size: number }[] = [];
  let skipped: string | undefined;
  let asked = 0;
  const mtimeMs = c.time * 1000;
  const fields = nulSlices(out);
  const texts = fields.map((raw) => raw.toString('utf8'));
  const exported = await readExportRules(
    c,
    texts.flatMap((field) => attributePath(field, c.loc.prefix) ?? []),
  );
  const archived = archivedDirs(texts, exported, c.loc.prefix);
  const subst: SourceEntry[] = [];
  for (const [i, raw] of fields.entries()) {
    // "<mode> <type> <object> <size, padded>\t<path>"
    const field = texts[i]!;
    const tab = field.indexOf('\t');
    if (tab < 0) continue;
    // As in a directory (source/scan.ts): a name that is not UTF-8 cannot be sent as named.
    if (field.includes('\uFFFD') && !Buffer.from(field, 'utf8').equals(raw))
      throw notUtf8(shownName(raw.subarray(raw.indexOf(9) + 1)));
    const [mode, type, oid, size] = field.slice(0, tab).split(/ +/);
    const p = field.slice(tab + 1);
    if (skipped !== undefined && p.startsWith(skipped)) continue;
    const isDir = type === 'tree' || type === 'commit';
    if (type === 'tree' && !archived.has(p)) continue;
    if (++asked % PATHS_PER_MATCHER === 0) ig = ignore().add(rules);
    if (ig.ignores(isDir ? `${p}/` : p) || isExportIgnored(exported, c.loc.prefix + p)) {
      if (isDir) skipped = `${p}/`;
      continue;
    }
    const entry: SourceEntry = {
      path: p,
      type: isDir ? 'dir' : mode === '120000' ? 'symlink' : 'file',
      mode: isDir ? 0o755 : (MODE_OF[mode!] ?? 0o644),
      size: isDir || mode === '120000' ? 0 : Number(size),
      mtimeMs,
      ino: undefined,
      ctimeMs: undefined,
      tracked: true,
      oid: isDir ? undefined : oid,
    };
    entries.push(entry);
    if (entry.type === 'symlink') links.push({ entry, size: Number(size) });
    if (entry.type === 'file' && exported.rewritten.has(c.loc.prefix + p)) subst.push(entry);
  }
  await readLinkTargets(c, links);
  const substituted = new Map<string, Buffer>();
  const expanded = await readSubstituted(
    c,
    subst.map((e) => c.loc.prefix + e.path),
  );
  for (const e of subst) {
    const bytes = expanded.get(c.loc.prefix + e.path);
    if (!bytes) continue;
    substituted.set(e.path, bytes);
    e.size = bytes.length;
  }
  return { entries, substituted };
}

/**
 * The directories `git archive` writes: it writes one only on its way to a file, a link or a
 * submodule beneath it (one it then leaves out as export-ignore says still counts; nothing under an
 * export-ignored directory does), so a tree holding only empty trees (`git mktree`) is left out.
 * `exclude` does not count here: it takes paths out of what git archive gives.
 */
function archivedDirs(fields: readonly string[], exported: ExportRules, prefix: string): Set<string> {
  const dirs = new Set<string>();
  for (const field of fields) {
    const tab = field.indexOf('\t');
    if (tab < 0 || field.slice(0, tab).split(/ +/)[1] === 'tree') continue;
    const p = field.slice(tab + 1);
    const parent = p.lastIndexOf('/');
    if (parent < 0 || isExportIgnored(exported, prefix + p.slice(0, parent + 1))) continue;
    // Ancestors deepest first: one already there has all of its own.
    for (let i = parent; i > 0 && !dirs.has(p.slice(0, i)); i = p.lastIndexOf('/', i - 1))
      dirs.add(p.slice(0, i));
  }
  return dirs;
}

/** A commit's files as the upload sends them. */
export interface CommitListing {
  entries: SourceEntry[];
  /** Bytes `git archive` writes other than the blob's (export-subst, eol=crlf, ident…), by source path. */
  substituted: ReadonlyMap<string, Buffer>;
}

/** A symlink's target is its blob's content. */
async function readLinkTargets(
  c: Commit,
  links: readonly { entry: SourceEntry; size: number }[],
): Promise<void> {
  if (links.length === 0) return;
  const blobs = new BlobStream(
    c.loc.top,
    links.map((l) => l.entry.oid!),
  );
  try {
    for (const { entry, size } of links) {
      const pieces: Buffer[] = [];
      for await (const piece of blobs.next(entry.oid!, size, entry.path)) pieces.push(piece);
      entry.linkTarget = Buffer.concat(pieces).toString('utf8');
    }
  } finally {
    blobs.close();
  }
}

/**
 * The bytes of a commit's files, from git's objects. The hash cache knows a file by its blob id:
 * a blob never changes, so a sha256 taken once serves every later deploy of any commit holding it.
 */
export function commitContent(c: Commit, substituted: ReadonlyMap<string, Buffer>): ContentSource {
  const top = c.loc.top;
  const fromBlob = (e: SourceEntry) => e.type === 'file' && !substituted.has(e.path);
  const oidsOf = function* (entries: readonly SourceEntry[]): Generator<string> {
    for (const e of entries) if (fromBlob(e)) yield e.oid!;
  };
  const chunksOf = (blobs: BlobStream, e: SourceEntry): AsyncIterable<Buffer> => {
    const bytes = substituted.get(e.path);
    return bytes ? once(bytes) : blobs.next(e.oid!, e.size, e.path);
  };
  return {
    cacheRoot: path.join(c.loc.commonDir, 'objects'),
    // An expanded file is never cached: its bytes are not the commit's alone (%d, %D and
    // %(describe) read the refs of the moment, %ar the clock), and they are in memory anyway.
    // No inode: the hash cache neither answers for it nor keeps it.
    cacheKey: (e) =>
      substituted.has(e.path)
        ? { ...e, ino: undefined }
        : { path: e.oid!, type: 'file', mode: 0, size: e.size, mtimeMs: 0, ctimeMs: 0, ino: 0 },
    hash: async (files) => {
      const out = new Map<string, string>();
      const blobs = new BlobStream(top, oidsOf(files));
      try {
        for (const e of files) {
          const h = createHash('sha256');
          for await (const piece of chunksOf(blobs, e)) h.update(piece);
          out.set(e.path, h.digest('hex'));
        }
      } finally {
        blobs.close();
      }
      return out;
    },
    reader: (entries) => {
      const blobs = new BlobStream(top, oidsOf(entries));
      return { chunks: (e) => chunksOf(blobs, e), close: () => blobs.close() };
    },
  };
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}
