import { createHash } from 'node:crypto';
import type { SourceEntry } from '../scan.js';
import type { UploadPlan } from '../upload-plan-types.js';

/** The HTTP client a host fetches with: whichever it has, curl preferred (one process, parallel, keep-alive). */
export type FetchTool = 'curl' | 'wget';

/**
 * How a host that pulls builds its release: what the upload script reads, section by section, from
 * the bundle it downloads. Sizes are bytes, each section read with `head -c`.
 */
export interface FetchLayout {
  tool: FetchTool;
  /** curl's config (`url`/`output` pairs) or wget's lines (`<url> <path>`). */
  list: number;
  /** `sha256sum -c` lines for every fetched file. */
  check: number;
  /** NUL-ended paths per mode: a fetched file is created with the umask's mode, then set to its own. */
  modes: { mode: number; bytes: number }[];
  /** NUL-ended paths whose mtime is set to `mtime`, the time the upload manifest records for them. */
  touch: number;
  mtime: number;
  /** Files fetched and their bytes (for the notice). */
  files: number;
  bytes: number;
}

export interface FetchBundle {
  layout: FetchLayout;
  bytes: Buffer;
  sha256: string;
}

/** What the host fetches itself: files with content (an empty file travels in the archive, no request needed). */
export const fetchedFiles = (plan: Pick<UploadPlan, 'send'>): SourceEntry[] =>
  plan.send.filter((e) => e.type === 'file' && e.size > 0);

/** wget reads one `<url> <path>` line per file: a path holding a newline cannot be said that way. */
export const wgetCanFetch = (files: readonly SourceEntry[]): boolean =>
  !files.some((e) => /[\n\r]/.test(e.path));

/** A string in curl's config syntax: double-quoted, with its backslash escapes. */
const curlString = (s: string): string =>
  `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;

/** A `./` in front: curl takes an output of `-` as stdout, and sha256sum a name of `-` as stdin. */
const local = (p: string): string => `./${p}`;

/** coreutils' escaped form for a name with a backslash or newline: a leading `\`, then `\\` and `\n`. */
function checkLine(sha: string, p: string): string {
  const name = local(p);
  if (!/[\\\n]/.test(name)) return `${sha}  ${name}\n`;
  return `\\${sha}  ${name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`;
}

const nulList = (paths: readonly string[]): Buffer =>
  Buffer.from(paths.map((p) => `${p}\0`).join(''), 'utf8');

/** The config or line that hands a host one URL on stdin (never on a command line). */
export function urlInput(tool: FetchTool, url: string): Buffer {
  return Buffer.from(tool === 'curl' ? `url = ${curlString(url)}\n` : `${url}\n`, 'utf8');
}

/**
 * Everything a pulling host needs besides the lists sent over SSH, in one object it downloads
 * from the store: the presigned URL of each file (by its sha256), the check list, the modes and
 * times, then the archive of what has no content to fetch (directories, symlinks, empty files,
 * REVISION, the upload manifest). Hosts with the same plan get the same bytes, so a fleet deployed
 * together costs one bundle in the store, and the deploying machine sends each host only a URL.
 */
export function fetchBundle(
  plan: Pick<UploadPlan, 'send'>,
  tool: FetchTool,
  urlOf: (sha: string) => string,
  archive: Buffer,
  mtimeSeconds: number,
): FetchBundle {
  const files = fetchedFiles(plan);
  const list =
    tool === 'curl'
      ? files
          .map((e) => `url = ${curlString(urlOf(e.oid!))}\noutput = ${curlString(local(e.path))}\n`)
          .join('')
      : files.map((e) => `${urlOf(e.oid!)} ${e.path}\n`).join('');
  const check = files.map((e) => checkLine(e.oid!, e.path)).join('');
  const byMode = new Map<number, string[]>();
  for (const e of files) byMode.set(e.mode, [...(byMode.get(e.mode) ?? []), e.path]);
  const modeLists = [...byMode.entries()]
    .sort(([a], [b]) => a - b)
    .map(([mode, paths]) => ({ mode, bytes: nulList(paths) }));
  const touch = nulList(files.map((e) => e.path));
  const parts = [
    Buffer.from(list, 'utf8'),
    Buffer.from(check, 'utf8'),
    ...modeLists.map((m) => m.bytes),
    touch,
  ];
  const bytes = Buffer.concat([...parts, archive]);
  return {
    layout: {
      tool,
      list: parts[0]!.length,
      check: parts[1]!.length,
      modes: modeLists.map((m) => ({ mode: m.mode, bytes: m.bytes.length })),
      touch: touch.length,
      mtime: mtimeSeconds,
      files: files.length,
      bytes: files.reduce((n, e) => n + e.size, 0),
    },
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
