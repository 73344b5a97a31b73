import { createHash } from 'node:crypto';
import { isInsidePath } from '../../config/paths.js';
import { DeployError } from '../../definitions/errors.js';
import type { EntryType, SourceEntry } from '../scan.js';

/**
 * A release artifact's manifest: every path of the release with its type, mode, symlink target
 * and sha256, and the revision it was built from. Its id is the sha256 of its canonical bytes,
 * so the same commit with the same build output gives the same id on any machine. Times (mtime,
 * ctime), inodes and the order a scan happened to find things in never enter it.
 */
const ARTIFACT_FORMAT = 'shipshape-artifact/1';

interface ArtifactEntry {
  path: string;
  type: EntryType;
  mode: number;
  /** Files only. */
  size?: number;
  sha256?: string;
  /** Symlinks only. */
  link?: string;
  /** In git's index; absent outside a git work tree. Shared paths are seeded only from tracked files. */
  tracked?: boolean;
}

export interface ArtifactManifest {
  format: typeof ARTIFACT_FORMAT;
  /** Written to REVISION; the commit (with `-dirty` for a work tree that differed from it). */
  revision?: string;
  entries: ArtifactEntry[];
}

/** A full id is 64 hex digits; a unique prefix of at least this many names one too. */
export const MIN_ID_PREFIX = 8;
export const ID_PATTERN = /^[0-9a-f]{64}$/;
const SHA256 = ID_PATTERN;

/** The source's entries with their hashes, in canonical order (by path; a directory before its contents). */
export function manifestOf(
  entries: readonly SourceEntry[],
  hashes: ReadonlyMap<string, string>,
  revision: string | undefined,
): ArtifactManifest {
  const rows = entries.map((e): ArtifactEntry => {
    const row: ArtifactEntry = { path: e.path, type: e.type, mode: e.mode };
    if (e.type === 'file') {
      row.size = e.size;
      row.sha256 = hashes.get(e.path);
    }
    if (e.type === 'symlink') row.link = e.linkTarget ?? '';
    if (e.tracked !== undefined) row.tracked = e.tracked;
    return row;
  });
  return { format: ARTIFACT_FORMAT, ...(revision ? { revision } : {}), entries: sortByPath(rows) };
}

// Plain string order puts a directory before everything under it (its path is their prefix).
const sortByPath = (rows: ArtifactEntry[]): ArtifactEntry[] =>
  rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

/**
 * One line of JSON per entry, keys in a fixed order: the same manifest always gives the same bytes
 * (JSON.stringify of an object follows insertion order, so each row is rebuilt in that order).
 */
export function canonicalBytes(m: ArtifactManifest): Buffer {
  const head = JSON.stringify({ format: m.format, revision: m.revision ?? null });
  const rows = m.entries.map((e) =>
    JSON.stringify({
      path: e.path,
      type: e.type,
      mode: e.mode,
      ...(e.size !== undefined ? { size: e.size } : {}),
      ...(e.sha256 !== undefined ? { sha256: e.sha256 } : {}),
      ...(e.link !== undefined ? { link: e.link } : {}),
      ...(e.tracked !== undefined ? { tracked: e.tracked } : {}),
    }),
  );
  return Buffer.from([head, ...rows].join('\n') + '\n', 'utf8');
}

export const artifactId = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const TYPES = new Set<EntryType>(['file', 'dir', 'symlink']);

/**
 * Reads a manifest back from the store. Its bytes must hash to the id asked for (a manifest
 * altered in the store is refused), and every entry must be one the upload can write: a path
 * inside the release, not below a symlink of the artifact, a file with a sha256.
 */
export function parseManifest(bytes: Buffer, id: string): ArtifactManifest {
  const bad = (reason: string) => new DeployError('EARTIFACT', { id, reason });
  if (artifactId(bytes) !== id)
    throw bad('its manifest in the store does not hash to its id (altered or damaged)');
  const lines = bytes
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '');
  let head: { format?: unknown; revision?: unknown };
  const entries: ArtifactEntry[] = [];
  try {
    head = JSON.parse(lines[0] ?? '') as typeof head;
    for (const l of lines.slice(1)) entries.push(JSON.parse(l) as ArtifactEntry);
  } catch (e) {
    throw bad(`its manifest is not readable (${(e as Error).message})`);
  }
  if (head.format !== ARTIFACT_FORMAT) throw bad(`its manifest is not a ${ARTIFACT_FORMAT} manifest`);
  const links: string[] = [];
  for (const e of entries) {
    const wrong =
      typeof e.path !== 'string' ||
      !isInsidePath(e.path) ||
      !TYPES.has(e.type) ||
      !Number.isInteger(e.mode) ||
      (e.type === 'file' && (!Number.isInteger(e.size) || !SHA256.test(e.sha256 ?? ''))) ||
      (e.type === 'symlink' && typeof e.link !== 'string') ||
      links.some((l) => e.path.startsWith(`${l}/`));
    if (wrong) throw bad(`its manifest has an invalid entry ${JSON.stringify(e).slice(0, 120)}`);
    if (e.type === 'symlink') links.push(e.path);
  }
  return {
    format: ARTIFACT_FORMAT,
    ...(typeof head.revision === 'string' ? { revision: head.revision } : {}),
    entries,
  };
}

/**
 * The artifact as source entries. Every entry gets the same time, the artifact's (its manifest's
 * time in the store): the upload manifest on each host records it, and the next deploy of any
 * artifact compares hashes, not times.
 */
export function entriesOf(m: ArtifactManifest, mtimeMs: number): SourceEntry[] {
  return m.entries.map((e) => ({
    path: e.path,
    type: e.type,
    mode: e.mode,
    size: e.type === 'file' ? e.size! : 0,
    mtimeMs,
    ino: undefined,
    ctimeMs: undefined,
    tracked: e.tracked,
    ...(e.type === 'symlink' ? { linkTarget: e.link } : {}),
    ...(e.type === 'file' ? { oid: e.sha256 } : {}),
  }));
}

/** Bytes of content the artifact holds (each distinct object once). */
export function contentSize(m: ArtifactManifest): { files: number; objects: number; bytes: number } {
  const seen = new Map<string, number>();
  let files = 0;
  for (const e of m.entries) {
    if (e.type !== 'file') continue;
    files++;
    seen.set(e.sha256!, e.size!);
  }
  return { files, objects: seen.size, bytes: [...seen.values()].reduce((a, b) => a + b, 0) };
}
