import { lines, sh, type ShellText } from '../remote/sh.js';
import { afterMarker } from '../remote/markers.js';
import { reportPgid } from '../remote/transport.js';

export const STAGE_MARKER = '@@shipshape-stage ';
export const FAIL_MARKER = '@@shipshape-fail ';

export interface PlannedStage {
  id: string;
  commands: ShellText[];
}

/**
 * One script for several stages, so a phase costs one exec request. Markers on stderr
 * tell the executor which stage is running and which command failed; the commands
 * themselves run unchanged.
 */
export function composeScript(stages: readonly PlannedStage[]): string {
  const out = [
    sh`__shipshape_fail() { printf '\n%s%s %s %s\n' ${FAIL_MARKER} "$1" "$2" "$3" >&2; exit "$3"; }`,
    reportPgid,
  ];
  for (const stage of stages) {
    out.push(sh`printf '%s%s\n' ${STAGE_MARKER} ${stage.id} >&2`);
    stage.commands.forEach((cmd, i) => {
      out.push(sh`{ ${cmd}
} || __shipshape_fail ${stage.id} ${i} $?`);
    });
  }
  return lines(...out).text + '\n';
}

export interface ScriptReport {
  /** Stage ids in the order their markers appeared. */
  started: string[];
  failed?: { stage: string; index: number; code: number };
}

export function readScriptReport(stderr: string): ScriptReport {
  const started: string[] = [];
  let failed: ScriptReport['failed'];
  for (const line of stderr.split('\n')) {
    const stageId = afterMarker(line, STAGE_MARKER);
    const failure = afterMarker(line, FAIL_MARKER);
    if (stageId !== undefined) started.push(stageId.trim());
    else if (failure !== undefined) {
      const [stage = '', index = '0', code = '1'] = failure.trim().split(' ');
      failed = { stage, index: Number(index), code: Number(code) };
    }
  }
  return { started, failed };
}
