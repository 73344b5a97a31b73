import { Readable } from 'node:stream';
import { markerLines } from '../remote/markers.js';
import { sh } from '../remote/sh.js';
import { urlInput, type FetchTool } from '../source/artifact/fetch-bundle.js';
import type { HostContext, Stage } from './types.js';

const REACH_MARKER = '@@shipshape-reach ';

/** A presigned URL of an object the store holds; it reaches the host on stdin only. */
export type ReachContext = HostContext & { reachUrl: string };

export type Reach = { tool: FetchTool; ok: true } | { tool: FetchTool | 'none'; ok: false; reason: string };

/** Seconds the store gets to answer the host's first byte. */
const REACH_TIMEOUT = 10;

/**
 * Can the host fetch from the store by itself? It asks for the first byte of an object with the
 * HTTP client it has (curl, else GNU wget; BusyBox wget reads no URL list). The URL goes in on
 * stdin, as curl's config or wget's list, both one after the other: each branch reads its own.
 */
export const storeReach: Stage<ReachContext> = {
  id: 'store-reach',
  title: 'Check that the host can reach the artifact store',
  plan: (ctx) => {
    const curl = urlInput('curl', ctx.reachUrl).length;
    const wget = urlInput('wget', ctx.reachUrl).length;
    return [
      sh`if command -v curl >/dev/null 2>&1; then
  __ss_code=$(head -c ${curl} | curl -sS -o /dev/null -w '%{http_code}' -r 0-0 --max-time ${REACH_TIMEOUT} -K - 2>/dev/null) || :
  printf '%scurl %s\\n' ${REACH_MARKER} "\${__ss_code:-000}"
elif wget --version 2>/dev/null | grep -q 'GNU Wget'; then
  head -c ${curl} >/dev/null
  __ss_rc=0
  head -c ${wget} | wget -q -O /dev/null --timeout=${REACH_TIMEOUT} --tries=1 -i - 2>/dev/null || __ss_rc=$?
  printf '%swget %s\\n' ${REACH_MARKER} "$__ss_rc"
else
  printf '%snone 0\\n' ${REACH_MARKER}
fi`,
    ];
  },
  stdin: (ctx) => Readable.from([urlInput('curl', ctx.reachUrl), urlInput('wget', ctx.reachUrl)]),
};

/** wget's exit codes that say why (its manual's EXIT STATUS). */
const WGET: Record<string, string> = {
  '4': 'network failure',
  '5': 'TLS verification failure',
  '8': 'the store answered with an error',
};

export function readReach(stdout: string): Reach {
  const [tool = 'none', result = ''] = (markerLines(stdout, REACH_MARKER)[0] ?? 'none 0').trim().split(' ');
  if (tool === 'none') return { tool: 'none', ok: false, reason: 'the host has neither curl nor GNU wget' };
  if (tool === 'curl') {
    if (result === '200' || result === '206') return { tool, ok: true };
    const why = result === '000' ? 'no answer (DNS, network or TLS)' : `HTTP ${result}`;
    return { tool, ok: false, reason: `curl on the host could not reach the store: ${why}` };
  }
  if (result === '0') return { tool: 'wget', ok: true };
  return {
    tool: 'wget',
    ok: false,
    reason: `wget on the host could not reach the store: ${WGET[result] ?? `exit ${result}`}`,
  };
}
