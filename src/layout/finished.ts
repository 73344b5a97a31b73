import path from 'node:path';
import { sh, type ShellText } from '../remote/sh.js';
import type { DeployPaths } from './paths.js';
import { RELEASE_PATTERN } from './release-log.js';

/**
 * `.deploy/finished`: the last release whose deploy finished (its health check passed, its hooks
 * after the switch ran, its finish began), with what besides the files made it
 * (layout/release-shape.ts). skip_unchanged trusts only that release, and only while it is live.
 * A file of its own, not a release log line: the log has one line per state of a release.
 *
 * A skip_unchanged run that found the release holding its source by comparing it file by file
 * adds what it saw: the release's listing (the digest the probe computes of the live release)
 * and the source's key (source/source-key.ts). While both are still those, the next run knows
 * the answer without reading the manifest and the listing again.
 */
export interface Finished {
  release: string;
  shape: string;
  /** sha256 of the release's listing (layout/live-listing.ts) when a run confirmed it holds `source`. */
  listing?: string;
  source?: string;
}

const fileOf = (paths: DeployPaths): string => path.posix.join(paths.meta, 'finished');

/** Written whole, then renamed: a reader sees the old record or the new one. */
export const planFinished = (paths: DeployPaths, f: Finished): ShellText => {
  const file = fileOf(paths);
  return sh`printf '%s\t%s\n' ${f.release} ${f.shape} > ${`${file}.tmp`}
mv -f ${`${file}.tmp`} ${file}`;
};

/**
 * The record with what a run confirmed, only while it still names that release (run under the
 * lock). Best effort: a record not written only costs the next run a comparison, and must not
 * fail the unlock that follows it.
 */
export const planConfirmed = (paths: DeployPaths, f: Required<Finished>): ShellText => {
  const file = fileOf(paths);
  return sh`if [ "$(head -n 1 ${file} 2>/dev/null | cut -f 1,2)" = ${`${f.release}\t${f.shape}`} ]; then
  { printf '%s\t%s\t%s\t%s\n' ${f.release} ${f.shape} ${f.listing} ${f.source} > ${`${file}.tmp`} &&
    mv -f ${`${file}.tmp`} ${file}; } 2>/dev/null || rm -f ${`${file}.tmp`} 2>/dev/null || :
fi`;
};

/** The probe's line for it: `finished<TAB>release<TAB>shape[<TAB>listing<TAB>source]`. */
export const probeFinished = (paths: DeployPaths): ShellText =>
  sh`if [ -f ${fileOf(paths)} ]; then printf 'finished\t%s\n' "$(head -n 1 ${fileOf(paths)})"; fi`;

/** The probe line's value; undefined unless it names a release and a shape, and its other fields are digests. */
export function parseFinished(value: string): Finished | undefined {
  const [release = '', shape = '', listing, source, ...more] = value.split('\t');
  if (!RELEASE_PATTERN.test(release) || !/^[0-9a-f]{32}$/.test(shape) || more.length > 0) return undefined;
  if (listing === undefined && source === undefined) return { release, shape };
  if (!/^[0-9a-f]{64}$/.test(listing ?? '') || !/^[0-9a-f]{32}$/.test(source ?? '')) return undefined;
  return { release, shape, listing, source };
}
