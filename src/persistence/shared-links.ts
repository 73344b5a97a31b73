import path from 'node:path';
import type { SharedFile } from '../config/schema.js';
import { relativeLink } from '../layout/paths.js';
import { lines, sh, type ShellText } from '../remote/sh.js';

export const MISSING_MARKER = '@@shipshape-missing ';

const join = path.posix.join;

/**
 * Before removing or creating anything at `rel` inside the release, make sure no parent
 * component is a symlink: an uploaded `storage -> /var/lib/x` would otherwise send our
 * `rm -rf` or `mkdir -p` outside the release.
 */
export function parentsAreReal(releasePath: string, rel: string): ShellText {
  const checks = parentDirs(releasePath, rel);
  if (checks.length === 0) return sh`true`;
  return lines(
    ...checks.map(
      (p) =>
        sh`if [ -L ${p} ]; then printf 'refusing to link through the symlink %s in the release\n' ${p} >&2; exit 1; fi`,
    ),
  );
}

const parentDirs = (root: string, rel: string): string[] => {
  const parts = rel.split('/').slice(0, -1);
  return parts.map((_, i) => join(root, ...parts.slice(0, i + 1)));
};

/** The same check as a condition, for a caller that skips the entry instead of failing. */
export const hasRealParents = (root: string, rel: string): ShellText =>
  sh.join(
    parentDirs(root, rel).map((p) => sh`[ ! -L ${p} ]`),
    ' && ',
    sh`true`,
  );

/** Link text for release/<rel> -> shared/<rel>. */
export const sharedTarget = (releasePath: string, sharedRoot: string, rel: string): string =>
  relativeLink(join(releasePath, rel), join(sharedRoot, rel));

function link(releasePath: string, sharedRoot: string, rel: string): ShellText {
  const at = join(releasePath, rel);
  return sh`rm -rf ${at} && mkdir -p ${path.posix.dirname(at)} && ln -s ${sharedTarget(releasePath, sharedRoot, rel)} ${at}`;
}

export interface SharedLinkPlan {
  releasePath: string;
  sharedRoot: string;
  dirs: readonly string[];
  files: readonly SharedFile[];
}

/** Fails (exit 66) listing every required file that is in neither shared/ nor the release. */
export function planMissingCheck(
  { releasePath, sharedRoot, files }: SharedLinkPlan,
  exitCode: number,
): ShellText[] {
  const required = files.filter((f) => !f.optional);
  if (required.length === 0) return [];
  return [
    lines(
      sh`__missing=0`,
      ...required.map((f) => {
        const [shr, rel] = [join(sharedRoot, f.path), join(releasePath, f.path)];
        return sh`if [ ! -e ${shr} ] && { [ ! -f ${rel} ] || [ -L ${rel} ]; }; then printf '%s%s\n' ${MISSING_MARKER} ${f.path}; __missing=1; fi`;
      }),
      sh`[ "$__missing" = 0 ] || exit ${exitCode}`,
    ),
  ];
}

/**
 * Shared entries: the first deploy seeds shared/ with the release's own copy (mv -n -T:
 * never onto something that exists), later deploys only link. Nothing in shared/ is
 * ever removed or overwritten here; only the release's copy is.
 */
export function planSharedLinks(plan: SharedLinkPlan): ShellText[] {
  const { releasePath, sharedRoot, dirs, files } = plan;
  const out: ShellText[] = [];
  for (const d of dirs) {
    const [shr, rel] = [join(sharedRoot, d), join(releasePath, d)];
    out.push(
      lines(
        parentsAreReal(releasePath, d),
        sh`if [ ! -e ${shr} ] && [ ! -L ${shr} ]; then mkdir -p ${path.posix.dirname(shr)} && if [ -d ${rel} ] && [ ! -L ${rel} ]; then mv -n -T ${rel} ${shr}; else mkdir -p ${shr}; fi; fi`,
        link(releasePath, sharedRoot, d),
      ),
    );
  }
  for (const f of files) {
    const [shr, rel] = [join(sharedRoot, f.path), join(releasePath, f.path)];
    out.push(
      lines(
        parentsAreReal(releasePath, f.path),
        sh`if [ ! -e ${shr} ] && [ ! -L ${shr} ] && [ -f ${rel} ] && [ ! -L ${rel} ]; then mkdir -p ${path.posix.dirname(shr)} && mv -n -T ${rel} ${shr}; fi`,
        sh`if [ -e ${shr} ] || [ -L ${shr} ]; then ${link(releasePath, sharedRoot, f.path)}; fi`,
      ),
    );
  }
  return out;
}
