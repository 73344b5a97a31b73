import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { clipMasked, noMask, type Mask } from '../config/secrets.js';
import { DeployError, isDeployError, toDeployError } from '../definitions/errors.js';
import { afterMarker } from '../remote/markers.js';
import { isMarkerLine, stripMarkers, type Transport } from '../remote/transport.js';
import type { HostContext, Stage, StageOutcome } from '../stages/types.js';
import { composeScript, readScriptReport, scriptMarkers } from './compose.js';
import type { Reporter } from './reporter.js';

export interface HostRunner {
  alias: string;
  transport: Transport;
  reporter: Reporter;
  signal?: AbortSignal;
}

const STDERR_TAIL_LINES = 15;

/** Stages that rename over `current`: once one has started, a lost connection may have moved it. */
const SWITCHING_STAGES = new Set(['symlink', 'rollback', 'revert']);

/** What the script wrote to stderr from `stageId`'s marker on: that stage's own lines. */
function stageStderr(stderr: string, stageId: string, stageMarker: string): string {
  const at = stderr.lastIndexOf(`\n${stageMarker}${stageId}\n`);
  return at < 0 ? stderr : stderr.slice(at + 1);
}

/** The last lines of stderr, masked before they are cut (a multi-line secret cut in two would show). */
export function stderrTail(stderr: string, mask: Mask = noMask): string {
  const lines = mask(stripMarkers(stderr)).trimEnd().split('\n');
  return lines.slice(-STDERR_TAIL_LINES).join('\n');
}

/**
 * The only code that talks to a transport: plans the stages, sends them as one script,
 * reports stage progress from the script's markers, and turns a failure into a DeployError
 * naming host, stage, command and stderr.
 */
export async function runStages<C extends HostContext>(
  runner: HostRunner,
  stages: readonly Stage<C>[],
  ctx: C,
  options: { quiet?: boolean; followedBy?: boolean } = {},
): Promise<StageOutcome> {
  // A script is not started once the run is stopped: the transports stop a script when the signal
  // fires, and one sent after that would run to its end (the next host of a phase run `parallel`
  // at a time: its hook, or its switch). Not placed: nothing ran, `current` did not move.
  if (runner.signal?.aborted)
    throw new DeployError('EINTERRUPTED', { signal: String(runner.signal.reason ?? 'SIGINT') });

  const planned = stages.map((s) => {
    try {
      const commands = s.plan(ctx);
      const input = s.input?.(ctx);
      return {
        id: s.id,
        commands,
        shown: s.shown?.(ctx) ?? commands.map((c) => c.text),
        input: input && { into: input.into, bytes: Buffer.byteLength(input.text), text: input.text },
      };
    } catch (e) {
      // A planner that throws anything but a DeployError has a bug: say where it is.
      throw toDeployError(e, runner.alias, s.id);
    }
  });
  const withInput = stages.filter((s) => s.stdin);
  if (withInput.length > 1) {
    throw new DeployError('EINTERNAL', {
      reason: `stages ${withInput.map((s) => s.id).join(', ')} both want stdin`,
    });
  }
  const input = withInput[0];
  // This run's markers (compose.ts): a hook's output cannot print one.
  const token = randomBytes(6).toString('hex');
  const markers = scriptMarkers(token);
  const script = composeScript(planned, token);
  const { reporter, alias } = runner;
  const report = (id: string, state: 'start' | 'done' | 'failed', detail?: string) =>
    !options.quiet && reporter.stage(alias, id, state, detail);
  if (!options.quiet) reporter.trace?.(alias, 'script', script.text);

  const byId = new Map(stages.map((s) => [s.id, s]));
  let active: string | undefined;
  const started: string[] = [];
  const onStart = (id: string) => {
    if (active) report(active, 'done');
    active = id;
    started.push(id);
    report(id, 'start', byId.get(id)?.title);
    if (!options.quiet)
      for (const c of planned.find((p) => p.id === id)?.shown ?? []) reporter.trace?.(alias, 'command', c);
  };
  // A stage's own output (a hook's) goes to the reporter line by line; an empty line is held
  // back until the next, since a marker is printed after one (see compose.ts).
  let heldBlank = false;
  const onOutput = (line: string) => {
    if (!active || !byId.get(active)?.streams) return;
    if (line === '') {
      if (heldBlank) reporter.output?.(alias, active, '');
      heldBlank = true;
      return;
    }
    if (heldBlank) reporter.output?.(alias, active, '');
    heldBlank = false;
    reporter.output?.(alias, active, line.replace(/\r$/, ''));
  };
  let pending = '';
  const onStderr = (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      const id = afterMarker(line, markers.stage)?.trim();
      if (id !== undefined) onStart(id);
      if (isMarkerLine(line)) heldBlank = false;
      else onOutput(line);
    }
  };

  const result = await runner.transport
    .exec({
      script,
      stdin: stdinOf(
        planned.flatMap((p) => (p.input ? [p.input.text] : [])),
        input?.stdin?.(ctx, (p) => !options.quiet && reporter.progress?.(alias, input.id, p)),
      ),
      signal: runner.signal,
      onStderr,
      followedBy: options.followedBy,
    })
    .catch((e: unknown) => {
      // Which stage was running tells the caller whether `current` may have moved.
      const during = active === undefined ? undefined : { stage: active };
      // Cut off: only the markers of this script tell which stage ran and whether `current` may have moved.
      if (isDeployError(e, 'ECONNLOST')) {
        const stage = active ?? stages[0]?.id ?? 'connect';
        const switchMaybe = started.some((id) => SWITCHING_STAGES.has(id));
        throw new DeployError('ECONNLOST', { ...e.details, stage, switchMaybe }, { during });
      }
      // Interrupted, the source failed mid-stream, or what nobody anticipated (EINTERNAL).
      throw toDeployError(e, runner.alias, active).placed(during);
    });
  if (pending !== '' && !isMarkerLine(pending)) onOutput(pending);
  const outcome: StageOutcome = { exitCode: result.code ?? -1, stdout: result.stdout, stderr: result.stderr };
  if (result.code === 0) {
    if (active) report(active, 'done');
    for (const note of stages.flatMap((s) => s.notes?.(outcome, ctx) ?? []))
      runner.reporter.log(note.level, note.message, runner.alias);
    return outcome;
  }

  const scriptReport = readScriptReport(result.stderr, token);
  const failedId = scriptReport.failed?.stage ?? scriptReport.started.at(-1) ?? stages[0]?.id;
  const stage = stages.find((s) => s.id === failedId) ?? stages[0];
  if (!stage) throw new DeployError('EINTERNAL', { host: alias, reason: 'a script without stages failed' });
  const plannedStage = planned.find((p) => p.id === stage.id);
  const command = scriptReport.failed
    ? plannedStage?.shown[scriptReport.failed.index]
    : plannedStage?.shown.join('\n');
  const error =
    stage.interpret?.(outcome, ctx) ??
    new DeployError('ESTAGE', {
      host: runner.alias,
      stage: stage.id,
      exitCode: outcome.exitCode,
      command: oneLine(command ?? '(unknown)', ctx.mask),
      stderr: stderrTail(stageStderr(result.stderr, stage.id, markers.stage), ctx.mask),
    });
  report(stage.id, 'failed', error.message);
  // The failed command's index tells a failure before a stage's switch from one after it.
  const commandIndex = scriptReport.failed?.stage === stage.id ? scriptReport.failed.index : undefined;
  throw error.placed({ stage: stage.id, commandIndex });
}

/** The failed command on one line, at most 400 characters; a hook's `${SECRET}` is masked before the cut. */
function oneLine(command: string, mask: Mask = noMask): string {
  return clipMasked((t) => mask(t).replace(/\s*\n\s*/g, '; '), command, 400);
}

/** The stages' inputs, then the one stream after them (compose.ts reads the inputs first). */
function stdinOf(inputs: readonly string[], stream: Readable | undefined): Readable | undefined {
  if (inputs.length === 0) return stream;
  async function* all() {
    for (const text of inputs) yield Buffer.from(text);
    if (stream) yield* stream;
  }
  return Readable.from(all());
}
