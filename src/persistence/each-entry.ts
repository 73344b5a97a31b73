import { sh, type ShellText } from '../remote/sh.js';

/**
 * Runs `body` for every entry of `dir` at run time, hidden ones included: `$__p` is its path,
 * `$__n` its name. `dir` is shell text (a quoted path or `"$__S"`); the globs stay outside quotes.
 */
export const eachEntry = (dir: ShellText, body: ShellText): ShellText =>
  sh`for __p in ${dir}/* ${dir}/.[!.]* ${dir}/..?*; do
  # A pattern that matched nothing stays as written: skip it.
  { [ -e "$__p" ] || [ -L "$__p" ]; } || continue
  __n=\${__p##*/}
  ${body}
done`;

/** An exact-name `case` pattern: each name quoted, so none acts as a glob. */
export const casePattern = (names: readonly string[]): ShellText =>
  sh.join(
    names.map((n) => sh`${n}`),
    '|',
    sh`''`,
  );
