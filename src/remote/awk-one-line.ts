/**
 * An awk function for a name read from the server on its way into a line of output (stderr, a
 * marker): a newline in it would start an invented line, which the sanitiser cannot tell from a real
 * one. Written as C escapes; the change markers (persistence/release-changes.ts) use it too.
 */
export const AWK_ONE_LINE = `function one_line(s) { gsub(/\\n/, "\\\\n", s); gsub(/\\t/, "\\\\t", s); return s }`;
