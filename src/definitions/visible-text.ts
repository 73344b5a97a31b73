/**
 * Control characters as text: C0 (but tab and newline; CRLF is a newline), DEL, C1, bidi
 * overrides and isolates, and Unicode line separators become `\xHH` / `\uHHHH`, so a terminal
 * never receives an escape sequence (screen clear, window title, hyperlink, hidden text) and no
 * bare carriage return starts a new line. `oneLine` shows newlines and tabs too. The second step
 * of the sanitiser (sanitise.ts); output goes through the sanitiser, never through this alone.
 */
export function showControls(text: string, oneLine = false): string {
  return text.replace(oneLine ? CONTROL_IN_LINE : CONTROL, shown);
}

const CONTROL =
  /\r\n|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_IN_LINE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const shown = (c: string): string => {
  if (c === '\r\n') return '\n';
  const n = c.charCodeAt(0);
  return n < 0x100 ? `\\x${hex(n, 2)}` : `\\u${hex(n, 4)}`;
};
