import { ShellText, sh } from '../remote/sh.js';
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
    `__shipshape_fail() { printf '\\n${FAIL_MARKER}%s %s %s\\n' "$1" "$2" "$3" >&2; exit "$3"; }`,
    reportPgid,
  ];
  for (const stage of stages) {
    out.push(sh`printf '${new ShellText(STAGE_MARKER)}%s\n' ${stage.id} >&2`.text);
    stage.commands.forEach((cmd, i) => {
      out.push(`{ ${cmd.text}\n} || __shipshape_fail ${sh`${stage.id}`.text} ${i} $?`);
    });
  }
  return out.join('\n') + '\n';
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
    if (line.startsWith(STAGE_MARKER)) started.push(line.slice(STAGE_MARKER.length).trim());
    else if (line.startsWith(FAIL_MARKER)) {
      const [stage = '', index = '0', code = '1'] = line.slice(FAIL_MARKER.length).trim().split(' ');
      failed = { stage, index: Number(index), code: Number(code) };
    }
  }
  return { started, failed };
}
