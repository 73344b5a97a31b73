/** Drops every path inside another listed path: removing the parent removes it. */
export function topMost(paths: readonly string[]): string[] {
  const set = new Set(paths);
  return [...set]
    .filter((p) => {
      for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) {
        if (set.has(p.slice(0, i))) return false;
      }
      return true;
    })
    .sort();
}
