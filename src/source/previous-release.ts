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
 * its upload manifest and a listing of what is really on disk, and with `withSpare` the same
 * listing of the spare. The listing is what makes hard links safe: a path the shared stage
 * turned into a symlink, or a file the app rewrote, shows up as different from the manifest
 * and is re-sent instead of trusted.
 *
 * Nothing here may fail the probe: a missing manifest or a `find` without -printf leaves a
 * line out and the deploy uploads in full.
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
const NUL = 0;
const END = Buffer.from(`${TREE_END}\0`);

/** Digits of `radix` up to the first non-digit (a mode in octal, a size, the seconds of an mtime). */
function integer(buf: Buffer, from: number, to: number, radix: 8 | 10): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d >= radix) break;
    n = n * radix + d;
  }
  return n;
}

/**
 * Decodes the probe's listing; undefined when it is absent, truncated or garbled. Read field by
 * field from the gunzipped bytes: at 40,000 files the listing is 4 MB of text, and splitting it
 * into 280,000 strings (each a slice that kept the whole text alive) was most of a deploy's
 * planning memory.
 */
export function decodeTree(b64: string | undefined): Map<string, RemoteEntry> | undefined {
  if (!b64) return undefined;
  let buf: Buffer;
  try {
    buf = gunzipSync(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
  // A complete listing ends with the end record, written only when `find` succeeded.
  const body = buf.length - END.length;
  if (body < 0 || !buf.subarray(body).equals(END)) return undefined;
  const tree = new Map<string, RemoteEntry>();
  const at: number[] = new Array<number>(FIELDS + 1);
  let pos = 0;
  while (pos < body) {
    at[0] = pos;
    for (let f = 1; f <= FIELDS; f++) {
      const nul = buf.indexOf(NUL, at[f - 1]!);
      if (nul < 0 || nul >= body) return undefined;
      at[f] = nul + 1;
    }
    const field = (f: number): [number, number] => [at[f]!, at[f + 1]! - 1];
    const [y] = field(0);
    const type = TYPE_OF[String.fromCharCode(buf[y]!)] ?? 'other';
    const entry: RemoteEntry = {
      type,
      mode: integer(buf, ...field(1), 8),
      size: integer(buf, ...field(2), 10),
      mtime: integer(buf, ...field(3), 10),
      id: buf.toString('latin1', ...field(4)),
    };
    if (type === 'symlink') entry.link = buf.toString('utf8', ...field(6));
    tree.set(buf.toString('utf8', ...field(5)), entry);
    pos = at[FIELDS]!;
  }
  return tree;
}
