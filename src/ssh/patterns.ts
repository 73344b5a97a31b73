/**
 * OpenSSH's pattern language (ssh_config(5) PATTERNS), shared by known_hosts and ssh_config.
 * `*` matches any run of characters, `?` exactly one; there are no character classes.
 *
 * Why not a RegExp or the ssh-config package's `glob`: that one turns `?` into `.?` (zero or
 * one character), so `Host a?c` would wrongly match `ac`; OpenSSH never does.
 */
export function matchPattern(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starT = t;
    } else if (pc !== undefined && (pc === '?' || pc === text[t])) {
      p++;
      t++;
    } else if (starP !== -1) {
      // Let the last `*` swallow one more character and retry from there.
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** The three answers of OpenSSH's match_pattern_list(): a negated hit vetoes the whole list. */
export type ListMatch = 'match' | 'negated' | 'none';

/**
 * Matches a comma-separated list such as `*.example.com,!db.example.com`.
 * A `!pattern` that matches makes the answer 'negated' whatever else matched.
 */
export function matchPatternList(text: string, list: string, { ignoreCase = false } = {}): ListMatch {
  const subject = ignoreCase ? text.toLowerCase() : text;
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    let pattern = negated ? raw.slice(1) : raw;
    if (ignoreCase) pattern = pattern.toLowerCase();
    if (!matchPattern(subject, pattern)) continue;
    if (negated) return 'negated';
    positive = true;
  }
  return positive ? 'match' : 'none';
}
