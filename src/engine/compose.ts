import { DeployError } from '../definitions/errors.js';
import { lines, sh, type ShellText } from '../remote/sh.js';
import { afterMarker } from '../remote/markers.js';
import { reportPgid } from '../remote/transport.js';

const STAGE_MARKER = '@@shipshape-stage ';
const FAIL_MARKER = '@@shipshape-fail ';

/**
 * The lines that tell the executor which stage runs and which command failed. They share stderr
 * with the stages' own output, a hook's included, which may print any line (a migration's output,
 * a file's contents): `@@shipshape-stage cleanup` from a `before: symlink` hook made an interrupted
 * deploy report the new release live while `current` had not moved. So each script's markers
 * carry a token of that run (the executor's, random), which no output can know.
 */
export interface ScriptMarkers {
  stage: string;
  fail: string;
}

export const scriptMarkers = (token = ''): ScriptMarkers => {
  const run = token ? `${token} ` : '';
  return { stage: `${STAGE_MARKER}${run}`, fail: `${FAIL_MARKER}${run}` };
};

export interface PlannedStage {
  id: string;
  commands: ShellText[];
  /** Its input's variable and length in bytes (Stage.input): read first, in the stages' order. */
  input?: { into: ShellText; bytes: number };
}

const VARIABLE = /^__ss_[A-Za-z0-9_]+$/;

/**
 * The prologue of every script. `set -e` makes every step's exit status count, including the
 * earlier lines of a multi-line command: wrapping each command in `{ …; } || fail` (as before)
 * disabled errexit inside it, so only its last line decided, and a failed `mkdir` or `setfacl`
 * above a successful `ln` went unnoticed. The EXIT trap names the stage and command that ended
 * the script. What errexit does not see, by POSIX: conditions (`if`, `while`, `!`), the left side
 * of `&&` and `||`, and every command of a pipeline but the last (dash has no pipefail); a step
 * that must fail there says so itself (`|| exit 1`).
 */
const prologue = (markers: ScriptMarkers): ShellText => sh`__ss_stage= __ss_step=
__ss_on_exit() {
  __ss_rc=$?
  if [ "$__ss_rc" != 0 ] && [ -n "$__ss_stage" ]; then printf '\\n%s%s %s %s\\n' ${markers.fail} "$__ss_stage" "$__ss_step" "$__ss_rc" >&2; fi
}
trap __ss_on_exit EXIT
set -e`;

/**
 * One script for several stages, so a phase costs one exec request. Markers on stderr
 * tell the executor which stage is running and which command failed; the commands
 * themselves run unchanged, one after another, in one shell (a stage's functions and
 * variables stay defined for its later commands).
 */
export function composeScript(stages: readonly PlannedStage[], token = ''): ShellText {
  const markers = scriptMarkers(token);
  const out = [prologue(markers), reportPgid];
  // The inputs come first on stdin, in this order; `head -c` reads exactly theirs and no further.
  for (const { input, id } of stages) {
    if (!input) continue;
    if (!VARIABLE.test(input.into.text))
      throw new DeployError('EINTERNAL', { reason: `stage ${id} reads its input into ${input.into.text}` });
    out.push(sh`${input.into}=$(head -c ${input.bytes})`);
  }
  for (const stage of stages) {
    // On a line of its own even when a hook's last line had no newline: the reader drops the blank line.
    out.push(sh`__ss_stage=${stage.id} __ss_step=0; printf '\\n%s%s\\n' ${markers.stage} ${stage.id} >&2`);
    stage.commands.forEach((cmd, i) => {
      if (i > 0) out.push(sh`__ss_step=${i}`);
      out.push(cmd);
    });
  }
  return lines(...out, sh``);
}

export interface ScriptReport {
  /** Stage ids in the order their markers appeared. */
  started: string[];
  failed?: { stage: string; index: number; code: number };
}

export function readScriptReport(stderr: string, token = ''): ScriptReport {
  const markers = scriptMarkers(token);
  const started: string[] = [];
  let failed: ScriptReport['failed'];
  for (const line of stderr.split('\n')) {
    const stageId = afterMarker(line, markers.stage);
    const failure = afterMarker(line, markers.fail);
    if (stageId !== undefined) started.push(stageId.trim());
    else if (failure !== undefined) {
      const [stage = '', index = '0', code = '1'] = failure.trim().split(' ');
      failed = { stage, index: Number(index), code: Number(code) };
    }
  }
  return { started, failed };
}
