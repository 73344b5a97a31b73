import path from 'node:path';
import { sh, type ShellText } from '../remote/sh.js';
import type { DeployPaths } from './paths.js';
import { RELEASE_PATTERN } from './release-log.js';

/**
 * `.deploy/finished`: the last release whose deploy finished (its health check passed, its hooks
 * after the switch ran, its finish began), with what besides the files made it
 * (layout/release-shape.ts). skip_unchanged trusts only that release, and only while it is live.
 * A file of its own, not a release log line: the log has one line per state of a release.
 */
export interface Finished {
  release: string;
  shape: string;
}

const fileOf = (paths: DeployPaths): string => path.posix.join(paths.meta, 'finished');

/** Written whole, then renamed: a reader sees the old record or the new one. */
export const planFinished = (paths: DeployPaths, f: Finished): ShellText => {
  const file = fileOf(paths);
  return sh`printf '%s\t%s\n' ${f.release} ${f.shape} > ${`${file}.tmp`}
mv -f ${`${file}.tmp`} ${file}`;
};

/** The probe's line for it: `finished<TAB>release<TAB>shape`. */
export const probeFinished = (paths: DeployPaths): ShellText =>
  sh`if [ -f ${fileOf(paths)} ]; then printf 'finished\t%s\n' "$(head -n 1 ${fileOf(paths)})"; fi`;

/** The probe line's value; undefined unless it names a release and a shape. */
export function parseFinished(value: string): Finished | undefined {
  const [release = '', shape = ''] = value.split('\t');
  if (!RELEASE_PATTERN.test(release) || !/^[0-9a-f]{32}$/.test(shape)) return undefined;
  return { release, shape };
}
