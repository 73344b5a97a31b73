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
