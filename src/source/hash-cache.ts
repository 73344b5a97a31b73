import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SourceEntry } from './scan.js';

/**
 * Remembers file hashes between deploys, keyed by everything lstat says about a file (size,
 * mtime, ctime, inode): any write changes ctime, so a hit means the bytes are the ones that
 * were hashed. It only saves time; a missing or damaged cache just means hashing again.
 */
export interface HashCache {
  get(e: SourceEntry): string | undefined;
  set(e: SourceEntry, sha256: string): void;
  save(): Promise<void>;
}

type Row = [size: number, mtimeMs: number, ctimeMs: number, ino: number, sha256: string];
const FORMAT = 'shipshape-hash-cache/1';
/** A file written this recently may be written again within the clock's resolution: not cached. */
const SETTLE_MS = 2_000;

export function cacheFileFor(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.SHIPSHAPE_CACHE_DIR ??
    path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'shipshape');
  const key = createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 16);
  return path.join(base, 'hashes', `${key}.json`);
}

const shared = new Map<string, Promise<HashCache>>();

/** One cache per source per process: the upload and the persistence stage's public/ hashes share it. */
export function sharedHashCache(root: string): Promise<HashCache> {
  const key = path.resolve(root);
  let cache = shared.get(key);
  if (!cache) shared.set(key, (cache = loadHashCache(key)));
  return cache;
}

export async function loadHashCache(root: string, env: NodeJS.ProcessEnv = process.env): Promise<HashCache> {
  const file = cacheFileFor(root, env);
  let rows: Record<string, Row> = {};
  try {
    const doc = JSON.parse(await fs.readFile(file, 'utf8')) as {
      format?: string;
      rows?: Record<string, Row>;
    };
    if (doc.format === FORMAT && doc.rows && typeof doc.rows === 'object') rows = doc.rows;
  } catch {
    /* no cache yet, or unreadable: start empty */
  }
  let dirty = false;
  const matches = (r: Row | undefined, e: SourceEntry): r is Row =>
    !!r && r[0] === e.size && r[1] === e.mtimeMs && r[2] === e.ctimeMs && r[3] === e.ino;
  return {
    get: (e) => {
      const r = rows[e.path];
      return e.ino !== undefined && matches(r, e) ? r[4] : undefined;
    },
    set: (e, sha256) => {
      if (e.ino === undefined || e.ctimeMs === undefined) return;
      if (Date.now() - Math.max(e.mtimeMs, e.ctimeMs) < SETTLE_MS) return;
      if (matches(rows[e.path], e) && rows[e.path]![4] === sha256) return;
      rows[e.path] = [e.size, e.mtimeMs, e.ctimeMs, e.ino, sha256];
      dirty = true;
    },
    save: async () => {
      if (!dirty) return;
      dirty = false;
      // Written aside and renamed, so a concurrent deploy never reads half a file.
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(tmp, cacheJson(root, rows));
        await fs.rename(tmp, file);
      } catch {
        await fs.rm(tmp, { force: true }).catch(() => undefined);
      }
    },
  };
}

const ROWS_PER_PIECE = 500;

/**
 * The cache's JSON in pieces, so a 40,000-file source is never one 6 MB string (with its
 * builder's copies) at the end of the upload, where memory already peaks.
 */
function* cacheJson(root: string, rows: Record<string, Row>): Generator<string> {
  yield `${JSON.stringify({ format: FORMAT, root: path.resolve(root) }).slice(0, -1)},"rows":{`;
  let piece: string[] = [];
  let first = true;
  for (const key in rows) {
    piece.push(`${JSON.stringify(key)}:${JSON.stringify(rows[key])}`);
    if (piece.length === ROWS_PER_PIECE) {
      yield (first ? '' : ',') + piece.join(',');
      first = false;
      piece = [];
    }
  }
  if (piece.length > 0) yield (first ? '' : ',') + piece.join(',');
  yield '}}';
}
