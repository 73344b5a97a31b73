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
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/**
 * The same for a path written in deploy.yml or a recipe, where a trailing slash is allowed. A
 * newline is refused: remote scripts pass lists of these paths one per line.
 */
export const isSafeRelative = (p: string): boolean =>
  !p.startsWith('/') && !/[\n\r]/.test(p) && isInsidePath(stripTrailingSlash(p));
