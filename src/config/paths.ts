import path from 'node:path';

/** Directories a deploy_path may never be: deleting releases there would wreck the system. */
export const SYSTEM_DIRS = [
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/proc',
  '/root',
  '/sbin',
  '/sys',
  '/usr',
  '/var',
];

export function isNormalizedAbsolute(p: string): boolean {
  return p.startsWith('/') && path.posix.normalize(p) === p && (p === '/' || !p.endsWith('/'));
}

export const stripTrailingSlash = (p: string): string => p.replace(/\/+$/, '');

/** A path that stays inside a release or shared/: relative, no `.`, `..` or empty segment. */
export function isInsidePath(p: string): boolean {
  if (!p || p.startsWith('/') || p.includes('\0')) return false;
  // Segment by segment without splitting: every upload manifest entry is checked with this.
  for (let start = 0; ;) {
    const end = p.indexOf('/', start);
    const seg = (end < 0 ? p.length : end) - start;
    if (seg === 0) return false;
    if (p[start] === '.' && (seg === 1 || (seg === 2 && p[start + 1] === '.'))) return false;
    if (end < 0) return true;
    start = end + 1;
  }
}

/**
 * The same for a path written in deploy.yml or a recipe, where a trailing slash is allowed. A
 * newline is refused: remote scripts pass lists of these paths one per line.
 */
export const isSafeRelative = (p: string): boolean =>
  !p.startsWith('/') && !/[\n\r]/.test(p) && isInsidePath(stripTrailingSlash(p));
