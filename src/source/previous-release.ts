import { gunzipSync } from 'node:zlib';
import type { DeployPaths } from '../engine/paths.js';
import { sh, type ShellText } from '../remote/sh.js';
import { spareTree } from '../engine/spare.js';
import { manifestDir } from './manifest.js';

/** What the probe read about the release `current` points to, still encoded. */
export interface PreviousReleaseRaw {
  release?: string;
  /** base64 of the gzipped upload manifest, when the server has one. */
  manifest?: string;
  /** base64 of the gzipped listing of the release as it is on disk now. */
  tree?: string;
  /** The same listing of the spare: a pruned release kept to be renamed into the next one. */
  spare?: string;
}

export const PREVIOUS_KINDS = ['prev-release', 'prev-manifest', 'prev-tree', 'spare-tree'] as const;

/** Fields per entry: type, mode, size, mtime, device:inode, path, link target. */
const FIELDS = 7;

/**
 * `find` over a directory, NUL-separated so any file name survives, gzipped and base64'd onto
 * one line. The end record is written only when `find` succeeded, so a truncated listing is
 * never mistaken for a complete one. Device and inode tell a hard link to the same file apart
 * from an equal-looking copy.
 */
const listing = (dir: ShellText): ShellText =>
  sh`{ find ${dir} -mindepth 1 -printf '%y\\0%m\\0%s\\0%T@\\0%D:%i\\0%P\\0%l\\0' && printf 'end\\0'; } 2>/dev/null | gzip -1 | base64 -w0`;

/** The record the probe prints after a complete listing (its `printf 'end\0'`). */
const TREE_END = 'end';

/**
 * Probe fragment: names the release `current` points to and sends back, in the same script,
 * its upload manifest and a listing of what is really on disk (type, mode, size, mtime, path,
 * link target; NUL-separated so any file name survives). The listing is what makes hard
 * links safe: a path the shared stage turned into a symlink, or a file the app rewrote, shows
 * up as different from the manifest and is re-sent instead of trusted.
 *
 * Nothing here may fail the probe: a missing manifest or a `find` without -printf leaves a
 * line out and the deploy uploads in full. The listing ends with a marker record written only
 * when `find` succeeded, so a truncated listing is never mistaken for a complete one.
 */
export function probePreviousRelease(paths: DeployPaths, withSpare: boolean): ShellText[] {
  const dir = sh`${paths.releases}/"$__prev"`;
  const spare = spareTree(paths);
  const listSpare = withSpare
    ? sh`
  if [ -d ${spare} ] && [ ! -L ${spare} ]; then printf 'spare-tree\t'; ${listing(sh`${spare}`)}; printf '\n'; fi`
    : sh``;
  return [
    sh`__prev=''; if [ -L ${paths.current} ]; then __prev=$(readlink ${paths.current}); __prev=\${__prev#./}; __prev=\${__prev#releases/}; __prev=\${__prev%/}; fi
case "$__prev" in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) __prev='' ;; esac
if [ -n "$__prev" ] && [ -d ${dir} ] && [ ! -L ${dir} ]; then
  printf 'prev-release\t%s\n' "$__prev"
  if [ -f ${manifestDir(paths)}/"$__prev".json.gz ]; then printf 'prev-manifest\t'; base64 -w0 < ${manifestDir(paths)}/"$__prev".json.gz; printf '\n'; fi
  printf 'prev-tree\t'; ${listing(dir)}; printf '\n'${listSpare}
fi; true`,
  ];
}

/** Collects the probe's `prev-*` lines; anything else is not ours. */
export function readPreviousLine(
  into: PreviousReleaseRaw | undefined,
  kind: string,
  value: string,
): PreviousReleaseRaw | undefined {
  if (!(PREVIOUS_KINDS as readonly string[]).includes(kind)) return into;
  const out = { ...into };
  if (kind === 'prev-release') out.release = value;
  else if (kind === 'prev-manifest') out.manifest = value;
  else if (kind === 'spare-tree') out.spare = value;
  else out.tree = value;
  return out;
}

export type RemoteType = 'file' | 'dir' | 'symlink' | 'other';

export interface RemoteEntry {
  type: RemoteType;
  mode: number;
  size: number;
  mtime: number;
  /** `device:inode`: equal for two names of one file. */
  id: string;
  link?: string;
}

const TYPE_OF: Record<string, RemoteType> = { f: 'file', d: 'dir', l: 'symlink' };

/** Decodes the probe's listing; undefined when it is absent, truncated or garbled. */
export function decodeTree(b64: string | undefined): Map<string, RemoteEntry> | undefined {
  if (!b64) return undefined;
  let fields: string[];
  try {
    fields = gunzipSync(Buffer.from(b64, 'base64')).toString('utf8').split('\0');
  } catch {
    return undefined;
  }
  // A complete listing is FIELDS per entry, then the end marker and the empty tail after its NUL.
  if (fields.length % FIELDS !== 2 || fields.at(-2) !== TREE_END || fields.at(-1) !== '') return undefined;
  const tree = new Map<string, RemoteEntry>();
  for (let i = 0; i + FIELDS <= fields.length - 2; i += FIELDS) {
    const [y, m, s, t, id, p, l] = fields.slice(i, i + FIELDS) as string[] as [string, ...string[]];
    tree.set(p!, {
      type: TYPE_OF[y] ?? 'other',
      mode: Number.parseInt(m!, 8),
      size: Number(s),
      mtime: Math.floor(Number(t)),
      id: id!,
      ...(y === 'l' ? { link: l } : {}),
    });
  }
  return tree;
}
