import path from 'node:path';
import { DeployError } from '../definitions/errors.js';
import { markerLines } from '../remote/markers.js';
import { sh, type ShellText } from '../remote/sh.js';
import { urlInput } from '../source/artifact/fetch-bundle.js';
import type { FetchPlan } from '../source/upload-plan-types.js';
import type { ReleaseContext, StageOutcome } from './types.js';

const MISMATCH_MARKER = '@@shipshape-mismatch ';

/** Transfers a host's curl runs at once: enough to hide the store's latency, polite to its limits. */
const PARALLEL = 16;

const bundleFile = (ctx: ReleaseContext): string =>
  path.posix.join(ctx.paths.meta, `fetch-${ctx.release}.bundle`);

/** The bytes on stdin after the lists: the bundle's URL, as the host's client reads it. */
export const fetchInput = (fetch: FetchPlan): Buffer => urlInput(fetch.layout.tool, fetch.bundle.url);

/**
 * A host that pulls: downloads its bundle (URL on stdin), checks it, fetches every file straight
 * into the release (each path was removed first, so no hard-linked inode is written through, and
 * the seed check has proved no symlink but the source's own is there), checks every file against
 * its sha256, sets modes and times, and extracts the archive of the rest. A file that does not
 * match is named and the host fails here, in the upload phase: no host has switched yet. URLs are
 * read from stdin or the bundle, never given as arguments; the bundle lives in .deploy/ (the
 * deploy user's alone) until the script ends.
 */
export function fetchSteps(ctx: ReleaseContext, fetch: FetchPlan): ShellText[] {
  const { layout, bundle } = fetch;
  const file = bundleFile(ctx);
  const rel = ctx.releasePath;
  const urlBytes = fetchInput(fetch).length;
  const getBundle =
    layout.tool === 'curl'
      ? sh`head -c ${urlBytes} | curl -sS -f --retry 2 -o "$__ss_bundle" -K - 2> "$__ss_err" || __ss_fetch_failed 'the fetch bundle'`
      : sh`head -c ${urlBytes} | wget -q --tries=3 -O "$__ss_bundle" -i - 2> "$__ss_err" || __ss_fetch_failed 'the fetch bundle'`;
  const getFiles =
    layout.tool === 'curl'
      ? sh`  head -c ${layout.list} |
    (cd ${rel} && curl --parallel --parallel-max ${PARALLEL} -sS -f --retry 2 --create-dirs -K -) 2> "$__ss_err" ||
    __ss_fetch_failed 'files'`
      : sh`  head -c ${layout.list} | (cd ${rel} && while IFS= read -r __ss_line; do
    __ss_path=\${__ss_line#* }
    case "$__ss_path" in */*) mkdir -p -- "\${__ss_path%/*}" ;; esac
    printf '%s\\n' "\${__ss_line%% *}" | wget -q --tries=3 -O "./$__ss_path" -i - || exit 1
  done) 2> "$__ss_err" || __ss_fetch_failed 'files'`;
  // The ellipsis sed puts for a query string is written \u2026: the bin's bundle stays ASCII (scripts/bundle.mjs).
  return [
    sh`__ss_bundle=${file} __ss_err=${file}.err
# curl and wget say what failed, never the URL; sed drops any query string all the same.
__ss_fetch_failed() {
  printf 'could not fetch %s from the artifact store:\\n' "$1" >&2
  sed 's/[?][^[:space:]]*/?\u2026/g' "$__ss_err" | tail -n 5 >&2
  rm -f "$__ss_bundle" "$__ss_err"
  exit 1
}
rm -f "$__ss_bundle"`,
    getBundle,
    sh`__ss_got=$(sha256sum < "$__ss_bundle")
if [ "\${__ss_got%% *}" != ${bundle.sha256} ]; then
  printf 'the fetch bundle from the artifact store does not match its sha256; nothing was extracted\\n' >&2
  rm -f "$__ss_bundle" "$__ss_err"
  exit 1
fi`,
    sh`{
${getFiles}
  if ! __ss_bad=$(head -c ${layout.check} | (cd ${rel} && LC_ALL=C sha256sum -c --quiet --strict - 2>/dev/null)); then
    printf '%s\\n' "$__ss_bad" | sed -n 's/: FAILED.*$//p' | head -n 10 | sed 's/^/${MISMATCH_MARKER.trim()} /' >&2
    printf 'fetched files do not match their sha256; nothing was switched\\n' >&2
    rm -f "$__ss_bundle" "$__ss_err"
    exit 1
  fi
${sh.join(
  layout.modes.map(
    (m) =>
      sh`  head -c ${m.bytes} | (cd ${rel} && xargs -0 -r chmod ${m.mode.toString(8).padStart(4, '0')} --)`,
  ),
  '\n',
)}
  head -c ${layout.touch} | (cd ${rel} && xargs -0 -r touch -c -d @${layout.mtime} --)
  tar --no-unquote -x --no-same-owner -p -f - -C ${rel}
} < "$__ss_bundle"
rm -f "$__ss_bundle" "$__ss_err"`,
  ];
}

/** A fetched file that does not match its hash: named, with the host. */
export function interpretFetch(outcome: StageOutcome, ctx: ReleaseContext): DeployError | undefined {
  const [first, ...more] = markerLines(outcome.stderr, MISMATCH_MARKER).map((p) => p.replace(/^\\?\.\//, ''));
  if (first === undefined) return undefined;
  const e = ctx.source.entries.find((x) => x.path === first);
  return new DeployError('EOBJECT', {
    host: ctx.alias,
    path: more.length > 0 ? `${first} (and ${more.length} more)` : first,
    sha256: e?.oid ?? '',
    store: ctx.source.artifact?.store.label ?? 'the store',
  });
}
