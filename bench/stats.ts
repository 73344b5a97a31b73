export interface Sample {
  ms: number;
  execs?: number;
  rssKiB?: number;
  /** Through the latency relay: bytes this machine received and sent, and how often the server answered after it spoke. */
  downBytes?: number;
  upBytes?: number;
  turns?: number;
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
    downBytes: median(samples.map((s) => s.downBytes ?? NaN)),
    upBytes: median(samples.map((s) => s.upBytes ?? NaN)),
    turns: [...new Set(samples.map((s) => s.turns).filter((x): x is number => x !== undefined))].sort(
      (a, b) => a - b,
    ),
  };
}
