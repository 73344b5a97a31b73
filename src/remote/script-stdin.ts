import { randomUUID } from 'node:crypto';
import { sh, type ShellText } from './sh.js';

/** The exit code of a script cut off before it arrived whole (sysexits' EX_PROTOCOL is 76; ours). */
const SCRIPT_INCOMPLETE = 97;

export interface ScriptDelivery {
  /** What `/bin/sh -c` runs: reads the script from stdin and evals it. Holds no part of the script. */
  bootstrap: ShellText;
  /** Written to the process's stdin before anything else (the upload's data follows it). */
  head: Buffer;
}

/**
 * The mark a script must end with (as a comment): one per reader, so a script cut short cannot
 * end with it. Letters and digits only: the reader's command line holds it unquoted.
 */
export const endMark = (): string => `shipshape${randomUUID().replaceAll('-', '')}`;

/**
 * What `/bin/sh -c` runs to receive a script ending with `end`. It holds neither the script nor
 * its length: it can be started before the script exists (an SSH channel opened ahead of the
 * phase that will use it, remote/ssh.ts), and waits on stdin for the script's length, one line,
 * then the script. Short, without quotes to escape: every exec request carries it.
 */
export function scriptReader(end: string): ShellText {
  if (!/^[A-Za-z0-9]+$/.test(end)) throw new TypeError(`not an end mark: ${end}`);
  return sh`__ss_x() { echo shipshape: the script arrived incomplete >&2; exit ${SCRIPT_INCOMPLETE}; }
IFS= read -r __ss_n || __ss_x
case $__ss_n in ""|*[!0-9]*) __ss_x;; esac
__ss_script=$(head -c "$__ss_n")
case $__ss_script in *#${end}) ;; *) __ss_x;; esac
eval "$__ss_script"`;
}

/**
 * How a script reaches the shell without being any process's argument. `/proc/<pid>/cmdline` is
 * readable by every user of the server, and a script holds what deploy.yml interpolated into
 * its hooks (`${DB_PASSWORD}`); stdin is not. Its length comes first, on a line of its own (read
 * byte by byte by `read`), then the script and its end mark: `head -c` reads exactly that many
 * bytes (never more, so the upload's archive behind it stays on stdin for tar), and a script that
 * arrives short (a connection cut mid-way) lacks the end mark and is refused rather than half run.
 * The script lives in a shell variable, which is not exported: it is in no process's environment.
 */
export function deliverScript(script: ShellText, end: string = endMark()): ScriptDelivery {
  const body = Buffer.from(`${script.text}\n#${end}`, 'utf8');
  return { bootstrap: scriptReader(end), head: Buffer.concat([Buffer.from(`${body.length}\n`), body]) };
}

/**
 * The user's own shell text (a hook, a health check, `deploy run`'s command) as one command of a
 * script: `eval`ed by the script's shell in a subshell, so it never becomes a process's argument
 * as `/bin/sh -c <text>` made it. The subshell keeps its `cd`, variables and traps to itself;
 * `set +e` gives it the semantics it had under `sh -c` (the script runs under `set -e`): its
 * status is that of its last command, a syntax error exits it with 2, `exit n` ends only it.
 */
export function userCommand(
  text: string,
  dir?: string,
  env: Readonly<Record<string, string>> = {},
): ShellText {
  // Exported by the subshell itself, from the script on stdin: in no process's arguments.
  const vars = Object.entries(env).map(([name, v]) => {
    // A name is spliced as it is (quoted, it would be no assignment): only a plain one may be.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`not a variable name: ${name}`);
    return sh`${name}=${v}`;
  });
  const exported = vars.length ? sh`export ${sh.join(vars, ' ')}; ` : sh``;
  return dir === undefined
    ? sh`(set +e; ${exported}eval ${text})`
    : sh`(set +e; ${exported}cd ${dir} || exit; eval ${text})`;
}

/**
 * The same, for a command whose output is the person's to read (a hook, a task): its stdout joins
 * its stderr, so both reach the executor in the order they were written, line by line.
 */
export const streamedCommand = (
  text: string,
  dir?: string,
  env?: Readonly<Record<string, string>>,
): ShellText => sh`${userCommand(text, dir, env)} 1>&2`;
