import type { TransferProgress } from '../engine/reporter.js';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

export function formatBytes(n: number): string {
  let i = 0;
  while (n >= 1000 && i < UNITS.length - 1) [n, i] = [n / 1000, i + 1];
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${UNITS[i]}`;
}

function formatDuration(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** "120/450 files, 3.2 MB of 10 MB, 1.1 MB/s, ETA 7s" — rate and ETA once some time has passed. */
export function formatProgress(p: TransferProgress, elapsedMs: number): string {
  const parts = [
    `${p.files}/${p.totalFiles} files`,
    `${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}`,
  ];
  if (elapsedMs >= 500 && p.bytes > 0) {
    const rate = p.bytes / (elapsedMs / 1000);
    parts.push(`${formatBytes(rate)}/s`);
    if (p.bytes < p.totalBytes) parts.push(`ETA ${formatDuration((p.totalBytes - p.bytes) / rate)}`);
  }
  return parts.join(', ');
}

/** Lets a value through at most once per interval (plain logs would drown in a line per file). */
export function throttle(intervalMs: number, now: () => number = Date.now) {
  const last = new Map<string, number>();
  return (key: string): boolean => {
    const t = now();
    const prev = last.get(key);
    if (prev !== undefined && t - prev < intervalMs) return false;
    last.set(key, t);
    return true;
  };
}
