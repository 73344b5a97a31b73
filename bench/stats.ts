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
    /** In the order they ran: round i of one row pairs with round i of another (pairedRatio). */
    samples: ms,
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

export interface Ratio {
  median: number;
  min: number;
  max: number;
  pairs: number;
}

/**
 * The ratio of two rows measured in the same rounds, taken round by round and then summarised:
 * this VM's speed drifts several fold within minutes, and a round's two runs see the same drift.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): Ratio {
  if (a.length === 0 || b.length === 0) return { median: NaN, min: NaN, max: NaN, pairs: 0 };
  // Rows of one run hold a sample per round; a row that skipped a round would pair the wrong runs.
  if (a.length !== b.length) throw new Error(`cannot pair ${a.length} runs with ${b.length}`);
  const rs = a.map((x, i) => x / b[i]!);
  return { median: median(rs), min: Math.min(...rs), max: Math.max(...rs), pairs: rs.length };
}

/** `0.89 (0.80–0.98)`: the median of the rounds' ratios, and their range when there are several. */
export const ratioText = (r: Ratio): string =>
  r.pairs > 1 ? `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : r.median.toFixed(2);
