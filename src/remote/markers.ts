import { sh, type ShellText } from './sh.js';

/**
 * Our scripts report facts as lines that start with a marker (`@@shipshape-… `), on stdout for
 * results and on stderr for progress. These read them back; a marker ends with its space.
 */

/** The rest of every line of `text` that starts with `marker`, in order. */
export function markerLines(text: string, marker: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) if (line.startsWith(marker)) out.push(line.slice(marker.length));
  return out;
}

/** The rest of `line` if it starts with `marker`, else undefined: for a stream read line by line. */
export const afterMarker = (line: string, marker: string): string | undefined =>
  line.startsWith(marker) ? line.slice(marker.length) : undefined;

/**
 * Defines the shell function `name`, which prints `marker` and its arguments (joined by spaces) as
 * one line of the report. A name the app gave a file on the server may hold a newline, which would
 * end the line there and start one of the app's choosing, read back as a line of ours (`@@shipshape-…`):
 * a newline in the arguments is printed as `\n`, as the changes report shows one. No fork unless
 * there is one.
 */
export const defineSayLine = (name: ShellText, marker: string): ShellText => sh`${name}() {
  case "$*" in
  *'
'*) printf '%s%s\\n' ${marker} "$(printf '%s' "$*" | sed -z 's/\\n/\\\\n/g')" ;;
  *) printf '%s%s\\n' ${marker} "$*" ;;
  esac
}`;
