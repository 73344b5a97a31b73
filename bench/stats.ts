export interface Sample {
  ms: number;
  execs?: number;
  rssKiB?: number;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export const secs = (ms: number): string => (ms / 1000).toFixed(2);

export function summary(samples: readonly Sample[]) {
  const ms = samples.map((s) => s.ms);
  const execs = [...new Set(samples.map((s) => s.execs).filter((x): x is number => x !== undefined))];
  const rss = samples.map((s) => s.rssKiB).filter((x): x is number => x !== undefined);
  return {
    median: median(ms),
    min: Math.min(...ms),
    max: Math.max(...ms),
    runs: samples.length,
    execs,
    peakRssMiB: rss.length ? Math.max(...rss) / 1024 : undefined,
  };
}
