import { showControls } from './visible-text.js';

/** Replaces every secret in a text (config/secrets.ts builds one from deploy.yml and the environment). */
export type Mask = (text: string) => string;

/**
 * The one filter between text from outside this process (server and hook output, file names,
 * config values, owner records, release logs) and anything that shows it: a terminal, a CI log,
 * `--json`, a log file. It works on whole lines, so a source that streams output line by line
 * can pass each complete line through it. Three steps, always in this order:
 *
 * 1. Mask secrets. First, because every later step rewrites text: a secret whose characters had
 *    been escaped or cut would no longer match.
 * 2. Make control characters visible (visible-text.ts): C0 but tab and newline,
 *    DEL, C1, bidi overrides and Unicode line separators become `\xHH` / `\uHHHH`. A terminal
 *    then never receives an escape sequence (screen clear, window title, hyperlink, hidden text),
 *    and no bare carriage return can start a new line in a CI log.
 * 3. Neutralise the workflow-command syntax of the CI the output goes to, line by line (below).
 *
 * Here, in the lowest layer, so that code below ui/ that writes to the outside itself (the
 * engine's notifications, the SSH passphrase prompt) uses this sanitiser, not a copy of its steps.
 */

export type CiProvider = 'github' | 'gitlab' | 'azure';

/** The CI whose log stdout and stderr are, from its documented environment variables. */
export function ciProviderOf(env: NodeJS.ProcessEnv): CiProvider | undefined {
  if (env.GITHUB_ACTIONS === 'true') return 'github';
  if (env.GITLAB_CI) return 'gitlab';
  // Azure Pipelines sets `True`; the case is not something to bet the log on.
  if (env.TF_BUILD?.toLowerCase() === 'true') return 'azure';
  return undefined;
}

/**
 * GitHub's runner (actions/runner, ActionCommand.TryParseV2 and TryParse) reads a line as a
 * command when, after trimming leading whitespace, it starts with `::`, or when it contains
 * `##[` anywhere. A backslash in front breaks both and stays readable. Neutralising every such
 * line also keeps `::stop-commands::` from silencing shipshape's own `::error`.
 */
const githubLine = (line: string): string => line.replace(/^(\s*)::/u, '$1\\::').replace(/##\[/g, '##\\[');

/**
 * GitLab (lib/gitlab/regex.rb, build_trace_section_regex) opens or closes a log section at
 * `section_start:` / `section_end:` followed by a timestamp, a name and `\r\e[0K`. Step 2 already
 * shows `\r` and ESC, so no marker can be completed; the words are changed as well, so a line
 * never even looks like one.
 */
const gitlabLine = (line: string): string => line.replace(/section_(start|end):/g, 'section-$1:');

/**
 * The Azure Pipelines agent (azure-pipelines-agent, Command.TryParse) finds `##vso[` anywhere in
 * a line of stdout or stderr, not only at its start, and does not log a line it acts on; the
 * log viewer formats `##[group]`, `##[error]` and the like. A backslash before the `[` breaks
 * both, anywhere in the line. The agent compares case-sensitively; `##VSO[` is broken as well,
 * as it costs nothing should an agent ever not.
 */
const azureLine = (line: string): string => line.replace(/##(vso)?\[/gi, '##$1\\[');

const NEUTRALISE: Record<CiProvider, (line: string) => string> = {
  github: githubLine,
  gitlab: gitlabLine,
  azure: azureLine,
};

export interface Sanitiser {
  /** Text from outside, any number of lines: masked, control characters visible, CI syntax neutral. */
  text(s: string): string;
  /** One cell, label or name on a line of ours: as text(), and newlines and tabs shown as well. */
  field(s: string): string;
  /** Every string and key of a value, as text(): for JSON, before it is serialised. */
  value<T>(v: T): T;
  /** The mask alone, for serialised text whose strings were already passed through value(). */
  readonly mask: Mask;
}

export interface SanitiserOptions {
  mask?: Mask;
  /** The CI whose log the output is; none for a terminal, a pipe or a log file. */
  ci?: CiProvider;
}

export function createSanitiser({ mask = (t) => t, ci }: SanitiserOptions = {}): Sanitiser {
  const neutralise = ci ? NEUTRALISE[ci] : undefined;
  const text = (s: string): string => {
    const visible = showControls(mask(s));
    return neutralise ? visible.split('\n').map(neutralise).join('\n') : visible;
  };
  const field = (s: string): string => {
    const visible = showControls(mask(s), true);
    return neutralise ? neutralise(visible) : visible;
  };
  const value = <T>(v: T): T => {
    if (typeof v === 'string') return text(v) as T;
    if (Array.isArray(v)) return v.map(value) as T;
    if (v && typeof v === 'object' && !(v instanceof Date))
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), value(x)])) as T;
    return v;
  };
  return { text, field, value, mask };
}
