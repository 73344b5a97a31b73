import fs from 'node:fs';
import path from 'node:path';
import { cacheEntry } from '../definitions/cache-dir.js';
import { gunzipSync, gzip } from 'node:zlib';
import type { Listing } from './listing.js';
import { sha256Hex } from './listing.js';
import type { HeldState } from './previous-release.js';
import type { PieceRecord } from './manifest.js';

/**
 * What this machine keeps between deploys to one host and deploy path, so that the probe sends
 * only what changed (layout/live-listing.ts): the listing of the live release it received last,
 * and the upload manifests it wrote or received, each under its sha256. Like the hash cache, it
 * only saves time: a missing or damaged file means the server sends that part whole.
 */
export interface ProbeMemory {
  /** Digests to name in the probe. */
  digests(): { listing?: string; manifests: string[] };
  /** The same, with the bytes, for putting the probe's answer together. */
  held(): HeldState;
  keepListing(digest: string, data: Listing): void;
  /** An upload manifest as the server stores it (gzipped JSON), and its pieces when written in pieces. */
  keepManifest(gz: Buffer, pieces?: readonly PieceRecord[]): void;
}

/** Manifests kept: the live release's, and a few for rollbacks and other machines' turns. */
const KEPT_MANIFESTS = 4;
const LISTING = /^listing-([0-9a-f]{64})\.gz$/;
const MANIFEST = /^manifest-([0-9a-f]{64})\.json\.gz$/;
const PIECE = /^([0-9a-f]{32}) (\d+)$/;

const memoryDirFor = (target: string, env: NodeJS.ProcessEnv = process.env): string =>
  cacheEntry('hosts', target, env);

/** Written aside and renamed, so a concurrent deploy never reads half a file; a failure is no loss. */
function writeAtomic(file: string, data: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

const names = (dir: string): string[] => {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
};

/** `target` names the host and deploy path (user, address, port, path): one memory each. */
export function openProbeMemory(target: string, env: NodeJS.ProcessEnv = process.env): ProbeMemory {
  const dir = memoryDirFor(target, env);
  const newest = (re: RegExp) =>
    names(dir)
      .filter((n) => re.test(n))
      .map((n) => ({ n, t: fs.statSync(path.join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
      .sort((a, b) => b.t - a.t)
      .map(({ n }) => n);
  let listing: { digest: string; data: Listing } | undefined;
  const file = newest(LISTING)[0];
  if (file) {
    try {
      const data = gunzipSync(fs.readFileSync(path.join(dir, file)));
      const digest = LISTING.exec(file)![1]!;
      if (sha256Hex(data) === digest) listing = { digest, data };
    } catch {
      /* damaged: the server sends the listing whole */
    }
  }
  const manifestNames = () => newest(MANIFEST);
  return {
    digests: () => ({
      listing: listing?.digest,
      manifests: manifestNames().map((n) => MANIFEST.exec(n)![1]!),
    }),
    held: () => ({
      listing,
      manifest: (digest) => {
        try {
          const gz = fs.readFileSync(path.join(dir, `manifest-${digest}.json.gz`));
          return sha256Hex(gz) === digest ? gz : undefined;
        } catch {
          return undefined;
        }
      },
      pieces: (digest) => {
        try {
          const lines = fs.readFileSync(path.join(dir, `manifest-${digest}.pieces`), 'utf8').split('\n');
          lines.pop();
          const pieces = lines.map((l) => PIECE.exec(l)).map((m) => m && { name: m[1]!, size: Number(m[2]) });
          return pieces.length > 0 && pieces.every((p) => p !== null) ? (pieces as PieceRecord[]) : undefined;
        } catch {
          return undefined;
        }
      },
    }),
    keepListing: (digest, data) => {
      listing = { digest, data };
      // Compressed on libuv's thread pool and written after: the plan waits for neither.
      gzip(data, { level: 1 }, (err, gz) => {
        if (err) return;
        writeAtomic(path.join(dir, `listing-${digest}.gz`), gz);
        // In a callback nothing would catch a throw; a listing left behind only costs disk.
        for (const n of newest(LISTING)) {
          if (n === `listing-${digest}.gz`) continue;
          try {
            fs.rmSync(path.join(dir, n), { force: true });
          } catch {
            /* kept: the next deploy tries again */
          }
        }
      });
    },
    keepManifest: (gz, pieces) => {
      const digest = sha256Hex(gz);
      // The pieces first: a manifest kept without them only costs the next upload every piece.
      if (pieces) {
        const lines = pieces.map((p) => `${p.name} ${p.size}\n`).join('');
        writeAtomic(path.join(dir, `manifest-${digest}.pieces`), Buffer.from(lines));
      }
      writeAtomic(path.join(dir, `manifest-${digest}.json.gz`), gz);
      for (const n of manifestNames().slice(KEPT_MANIFESTS)) {
        fs.rmSync(path.join(dir, n), { force: true });
        fs.rmSync(path.join(dir, n.replace(/\.json\.gz$/, '.pieces')), { force: true });
      }
    },
  };
}
