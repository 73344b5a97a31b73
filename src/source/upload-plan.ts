import type { Config, HostConfig } from '../config/schema.js';
import { decodeManifest, type ManifestEntry } from './manifest.js';
import { decodeListing, nonUtf8Path, type RemoteEntry } from './listing.js';
import type { PreviousRelease } from './previous-release.js';
import { recyclePlan } from './recycle-plan.js';
import { sameAsRecorded } from './same-content.js';
import { topMost } from './top-most.js';
import { usesSpare, type Compression, type UploadMode, type UploadPlan } from './upload-plan-types.js';
import { shownName, type SourceEntry } from './scan.js';

export * from './upload-plan-types.js';
export { topMost } from './top-most.js';

export interface UploadNotice {
  level: 'info' | 'warn';
  message: string;
}

type HashLookup = (entries: readonly SourceEntry[]) => Promise<Map<string, string>>;

export interface UploadInput {
  entries: readonly SourceEntry[];
  mode: UploadMode;
  compression: Compression;
  /** The previous release, put together from the probe and what this machine holds (resolvePrevious). */
  previous?: PreviousRelease;
  /** Hashes source files on demand; only called for files that might be unchanged. */
  hash: HashLookup;
  /** public_dir's shared entries: which source paths go to shared/, and which of those shared/ lacks. */
  shared?: PublicShared;
  /** What REVISION will say: compared with the base's for `sameAsBase`. */
  revision?: string;
  /**
   * skip_unchanged: the plan says whether it gives just what the base release holds
   * (`sameAsBase`), and one that does leaves the spare for later (`complete`), as no release may
   * be made at all; decoding the spare's listing and planning its corrections is the longest step
   * left. Otherwise nothing reads `sameAsBase`, and a no-change deploy would pay for it most
   * (the comparison stops at the first difference).
   */
  skipUnchanged?: boolean;
}

/** A plan and its notice; `complete` (a deferred spare) gives the plan the upload runs. */
export interface UploadChoice {
  plan: UploadPlan;
  notice: UploadNotice;
  complete?: () => { plan: UploadPlan; notice: UploadNotice };
}

export interface PublicShared {
  /** The shared entry of public_dir (`public/images`) that holds `path`, if any. */
  entryOf(path: string): string | undefined;
  /** Paths the previous upload sent that shared/ does not hold as placed (gone, or an update that waits). */
  unsettled: ReadonlySet<string>;
}

export const fullPlan = (entries: readonly SourceEntry[], compression: Compression): UploadPlan => ({
  entries,
  seed: 'empty',
  send: [...entries],
  remove: [],
  link: [],
  kept: new Map(),
  compression,
});

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;

/** gzip costs CPU on both ends and only pays off when the network is slower than that CPU. */
export function chooseCompression(
  configured: Compression | undefined,
  alias: string,
  host: Pick<HostConfig, 'local' | 'hostname'>,
): Compression {
  if (configured) return configured;
  if (host.local || LOOPBACK.test(host.hostname ?? alias)) return 'none';
  return 'gzip';
}

/** deploy.yml's `upload`, else the recipe's (copy for apps that write into their own code), else incremental. */
export function uploadSettings(ctx: {
  config: Pick<Config, 'upload' | 'compression'>;
  persistence?: { upload?: UploadMode };
}): {
  mode: UploadMode;
  compression?: Compression;
} {
  return {
    mode: ctx.config.upload ?? ctx.persistence?.upload ?? 'incremental',
    compression: ctx.config.compression,
  };
}

/**
 * Why the release could not be listed, from find's first line on stderr. A directory the app made
 * that the deploy user may not read (mode 0700) is the usual reason on a real server, not missing
 * tools: it is named, with what to do.
 */
function unlisted(base: string, error: string | undefined): string {
  // find's quotes in a UTF-8 locale written as escapes: the bin's bundle stays ASCII (scripts/bundle.mjs).
  const denied = error && /^find: ['\u2018`"]?(.*?)['\u2019"]?: Permission denied$/.exec(error);
  if (denied) {
    const dir = denied[1]!.replace(/^\.\//, '');
    return (
      `: the deploy user may not read ${dir} in it (${error}). Nothing is lost, but every deploy uploads in full` +
      ` while it stays closed: let the deploy user's group read it (as the app user: chmod -R g+rX releases/${base}/${dir}),` +
      ' or keep what the app writes there out of the release (shared_dirs)'
    );
  }
  return error ? ` (${error}; GNU find, sort and gzip are needed)` : ' (GNU find, sort and gzip are needed)';
}

/** Chooses between an incremental and a full upload and says why when it falls back. */
export async function planUpload(input: UploadInput): Promise<UploadChoice> {
  const { entries, mode, compression, previous } = input;
  const full = (level: UploadNotice['level'], why: string) => ({
    plan: fullPlan(entries, compression),
    notice: { level, message: `full upload: ${why}` },
  });
  if (mode === 'full') return full('info', '`upload: full` is set');
  if (!previous?.release) return full('info', 'no previous release on this host');
  const base = previous.release;
  if (!previous.manifest) return full('warn', `release ${base} has no upload manifest`);
  const read = decodeManifest(previous.manifest);
  if (!read.ok) return full('warn', `the upload manifest of ${base} is ${read.reason}`);
  if (read.manifest.release !== base)
    return full('warn', `the upload manifest of ${base} names another release`);
  const tree = decodeListing(previous.tree);
  if (!tree) {
    const odd = nonUtf8Path(previous.tree);
    return odd
      ? full(
          'warn',
          `${base} holds ${shownName(odd)}, whose name is not valid UTF-8 (written on the server), so a copy of it could not be told what to leave out; it stays in ${base}, and is rescued with what the app wrote when ${base} is pruned`,
        )
      : full('warn', `could not list ${base} on the server${unlisted(base, previous.treeError)}`);
  }

  // A copy can be made of any file the deploy user can read; a hard link, under
  // fs.protected_hardlinks, only of one it owns (or may write).
  const owner = mode === 'copy' || previous.uid === undefined ? undefined : Number(previous.uid);
  const { foreign, ...diff } = await diffAgainst(
    entries,
    tree,
    read.manifest.entries,
    input.hash,
    owner,
    input.shared,
  );
  const linked: UploadPlan = {
    entries,
    seed: mode === 'copy' ? 'copy' : 'link',
    base,
    compression,
    link: [],
    ...diff,
  };
  if (input.skipUnchanged)
    linked.sameAsBase = sameAsRecorded(entries, read.manifest.entries, linked, input.revision, tree);
  const complete = () => {
    const spare = usesSpare(mode) ? decodeListing(previous.spare) : undefined;
    const plan = spare ? recyclePlan(entries, linked, tree, spare) : linked;
    return { plan, notice: incrementalNotice(plan, linked, mode, foreign) };
  };
  if (linked.sameAsBase) {
    return { plan: linked, notice: incrementalNotice(linked, linked, mode, foreign), complete };
  }
  return complete();
}

/** Counted against the live release (the plan before any spare), as a person reads them; the spare's corrections apart. */
function incrementalNotice(
  plan: UploadPlan,
  linked: UploadPlan,
  mode: UploadMode,
  foreign: number,
): UploadNotice {
  const files = linked.send.filter((e) => e.type !== 'dir').length;
  const how =
    plan.seed === 'recycle'
      ? `hard links, in the directories of a pruned release: ${plan.remove.length} path(s) removed from it, ${plan.link.length} linked again`
      : mode === 'copy'
        ? 'copied'
        : 'hard links';
  return {
    level: 'info',
    message: `incremental upload from ${linked.base} (${how}): ${files} new or changed, ${linked.remove.length} removed or replaced, ${plan.kept.size} kept${foreign ? `; ${foreign} unchanged file(s) owned by another user sent again (hard links to them are not allowed)` : ''}`,
  };
}

/**
 * The previous release as it is on disk (`tree`) decides what can be kept; its manifest only
 * supplies content hashes, and only for files whose size and mtime still match what was
 * uploaded. Hashes, not mtimes, decide whether the source changed: a fresh CI checkout has
 * new mtimes for every file.
 */
async function diffAgainst(
  entries: readonly SourceEntry[],
  tree: ReadonlyMap<string, RemoteEntry>,
  manifest: readonly ManifestEntry[],
  hash: HashLookup,
  /** The deploy user's uid, when only its own files may be hard-linked. */
  owner?: number,
  shared?: PublicShared,
): Promise<Pick<UploadPlan, 'send' | 'remove' | 'kept' | 'placed'> & { foreign: number }> {
  const recorded = new Map<string, ManifestEntry>();
  for (const m of manifest) recorded.set(m.path, m);
  const inSource = new Set<string>();
  const replace = new Set<string>();
  const keep = new Map<string, ManifestEntry>();
  // Two parallel arrays rather than a pair object per file: at 40,000 files every object counts.
  const candidates: SourceEntry[] = [];
  const candidateRows: ManifestEntry[] = [];
  let foreign = 0;
  const linkable = (r: RemoteEntry): boolean => owner === undefined || r.uid === owner;
  // In the live release a shared public entry is a link into shared/, so the tree says nothing of
  // its files; what the previous upload sent, with its hash, says what shared/ was given.
  const placedCandidates: SourceEntry[] = [];
  const placedRows: ManifestEntry[] = [];
  const carried = (e: SourceEntry, r: RemoteEntry): ManifestEntry => ({
    path: e.path,
    type: e.type,
    mode: e.mode,
    size: e.size,
    mtime: r.mtime,
  });

  for (const e of entries) {
    inSource.add(e.path);
    const entry = e.type === 'file' ? shared?.entryOf(e.path) : undefined;
    // Only where the live release links the entry did its deploy put the entry's files into shared/.
    if (entry && tree.get(entry)?.type === 'symlink' && !shared!.unsettled.has(e.path)) {
      const m = recorded.get(e.path);
      if (m?.type === 'file' && m.sha256) {
        placedCandidates.push(e);
        placedRows.push(m);
        // A file that is the entry itself is that link: out of the seeded release, whether sent or not.
        if (tree.has(e.path)) replace.add(e.path);
        continue;
      }
    }
    const r = tree.get(e.path);
    if (!r) continue;
    if (r.type !== e.type) {
      replace.add(e.path);
      continue;
    }
    if (e.type === 'dir') {
      // A directory in the new release is a fresh one even when seeded by hard links, so tar may chmod it.
      if (r.mode === e.mode) keep.set(e.path, carried(e, r));
    } else if (e.type === 'symlink') {
      if (r.link === e.linkTarget && linkable(r)) keep.set(e.path, { ...carried(e, r), link: e.linkTarget });
      else replace.add(e.path);
    } else {
      const m = recorded.get(e.path);
      const trusted = m?.type === 'file' && m.size === r.size && m.mtime === r.mtime && m.sha256;
      if (trusted && r.size === e.size && r.mode === e.mode && linkable(r)) {
        candidates.push(e);
        candidateRows.push(m!);
      } else {
        if (trusted && !linkable(r)) foreign++;
        replace.add(e.path);
      }
    }
  }

  const hashes = await hash([...candidates, ...placedCandidates]);
  candidates.forEach((e, i) => {
    const m = candidateRows[i]!;
    if (hashes.get(e.path) === m.sha256) keep.set(e.path, m.mode === e.mode ? m : { ...m, mode: e.mode });
    else replace.add(e.path);
  });
  const placed = new Map<string, ManifestEntry>();
  placedCandidates.forEach((e, i) => {
    const m = placedRows[i]!;
    if (hashes.get(e.path) === m.sha256) placed.set(e.path, { ...m, mode: e.mode });
  });

  const gone = [...tree.keys()].filter((p) => !inSource.has(p));
  return {
    send: entries.filter((e) => !keep.has(e.path) && !placed.has(e.path)),
    remove: topMost([...gone, ...replace]),
    kept: keep,
    placed,
    foreign,
  };
}
