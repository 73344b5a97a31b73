function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/**
 * The closest known name, if it is close enough to be a typo. A shortened or lengthened name
 * wins over one a letter away: `host` means `hostname`, not `port`; `keep` means `keep_releases`.
 */
export function suggest(word: string, known: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  if (w.length >= 3) {
    const byLength = (a: string, b: string) => a.length - b.length;
    const longer = known.filter((k) => k.toLowerCase().startsWith(w)).sort(byLength);
    if (longer.length) return longer[0];
    const shorter = known.filter((k) => k.length >= 3 && w.startsWith(k.toLowerCase())).sort(byLength);
    if (shorter.length) return shorter.at(-1);
  }
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (d < bestScore) [best, bestScore] = [k, d];
  }
  return bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
