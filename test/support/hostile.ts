import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The corpus of hostile lines (test/fixtures/hostile-lines.json). */
const HOSTILE_FILE = path.join(ROOT, 'test/fixtures/hostile-lines.json');
export const HOSTILE: readonly string[] = (
  JSON.parse(fs.readFileSync(HOSTILE_FILE, 'utf8')) as { lines: { line: string }[] }
).lines.map((l) => l.line);

export interface RunnerCommand {
  command: string;
  properties: string;
  data: string;
  line: string;
}

/** Commands the GitHub runner registers (actions/runner, ActionCommandManager and its extensions). */
const REGISTERED = [
  'add-mask',
  'add-matcher',
  'remove-matcher',
  'add-path',
  'set-env',
  'set-output',
  'save-state',
  'debug',
  'notice',
  'warning',
  'error',
  'group',
  'endgroup',
  'echo',
  'stop-commands',
];

/** .NET's Char.IsWhiteSpace, which String.TrimStart() uses. */
const DOTNET_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*/;

/** ActionCommand.TryParseV2: `::name props::data` after leading whitespace. */
function parseV2(line: string, registered: Set<string>): RunnerCommand | undefined {
  const m = line.replace(DOTNET_SPACE, '');
  if (!m.startsWith('::')) return undefined;
  const end = m.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = m.slice(2, end);
  const space = info.indexOf(' ');
  const command = (space < 0 ? info : info.slice(0, space)).toLowerCase();
  if (!registered.has(command)) return undefined;
  return { command, properties: space < 0 ? '' : info.slice(space + 1), data: m.slice(end + 2), line };
}

/** ActionCommand.TryParse: `##[name props]data` anywhere in the line. */
function parseV1(line: string, registered: Set<string>): RunnerCommand | undefined {
  const at = line.indexOf('##[');
  if (at < 0) return undefined;
  const rb = line.indexOf(']', at);
  if (rb < 0) return undefined;
  const info = line.slice(at + 3, rb);
  const space = info.indexOf(' ');
  const command = (space < 0 ? info : info.slice(0, space)).toLowerCase();
  if (!registered.has(command)) return undefined;
  return { command, properties: space < 0 ? '' : info.slice(space + 1), data: line.slice(rb + 1), line };
}

/**
 * The workflow commands the GitHub runner would act on in a step's output, in order, as
 * ActionCommandManager.TryProcessCommand does: lines as StreamReader.ReadLine splits them (at
 * `\r\n`, `\r` and `\n`), the V2 syntax first, then `##[`, and after `::stop-commands::TOKEN`
 * nothing but `::TOKEN::` until it comes.
 */
export function githubCommands(output: string): RunnerCommand[] {
  const registered = new Set(REGISTERED);
  const out: RunnerCommand[] = [];
  let stopToken: string | undefined;
  for (const line of output.split(/\r\n|\r|\n/)) {
    const cmd = parseV2(line, registered) ?? parseV1(line, registered);
    if (!cmd) continue;
    if (stopToken !== undefined) {
      if (cmd.command === stopToken.toLowerCase()) {
        registered.delete(stopToken.toLowerCase());
        stopToken = undefined;
      }
      continue;
    }
    out.push(cmd);
    if (cmd.command === 'stop-commands') {
      stopToken = cmd.data;
      registered.add(stopToken.toLowerCase());
    }
  }
  return out;
}

/** GitLab's job log section markers (lib/gitlab/regex.rb, build_trace_section_regex), anywhere in the log. */
const GITLAB_SECTION =
  /section_(start|end):(\d+):([a-zA-Z0-9_.-]+)(\[(?:\w+=\w+)(?:, ?(?:\w+=\w+))*\])?\r\u001b\[0K/g;

export function gitlabSections(output: string): { kind: string; name: string }[] {
  return [...output.matchAll(GITLAB_SECTION)].map((m) => ({ kind: m[1]!, name: m[3]! }));
}

/** Characters no text from outside may bring to a terminal: C0 but tab and newline, DEL, C1, bidi. */
const RAW_CONTROL =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Every raw control character of `text`, with 10 characters of context each side. */
export function rawControls(text: string): string[] {
  const re = new RegExp(RAW_CONTROL.source, 'g');
  return [...text.matchAll(re)].map((m) =>
    JSON.stringify(text.slice(Math.max(0, m.index - 10), m.index + 10)),
  );
}

/** What a log keeps of GitLab's own markers: removed, so the rest can be checked for raw controls. */
export const withoutGitlabMarkers = (text: string): string =>
  text.replace(/\u001b\[0Ksection_(start|end):\d+:[a-zA-Z0-9_.-]+(\[collapsed=true\])?\r\u001b\[0K/g, '');
