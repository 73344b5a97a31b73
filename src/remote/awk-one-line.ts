/**
 * An awk function for a name read from the server on its way into a line of stderr: a newline in
 * it would start an invented line in the error's tail, which the sanitiser cannot tell from a real
 * one. Written as C escapes, as the change markers write them (persistence/release-changes.ts).
 */
export const AWK_ONE_LINE = `function one_line(s) { gsub(/\\n/, "\\\\n", s); gsub(/\\t/, "\\\\t", s); return s }`;
