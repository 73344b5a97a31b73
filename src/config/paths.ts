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

/** A path inside a release or shared/: relative, no `..`, no empty segment. */
export function isSafeRelative(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.includes('\0')) return false;
  const parts = p.replace(/\/+$/, '').split('/');
  return parts.every((s) => s !== '' && s !== '..' && s !== '.');
}

export const stripTrailingSlash = (p: string): string => p.replace(/\/+$/, '');
