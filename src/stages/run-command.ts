import { DeployError } from '../definitions/errors.js';
import { userCommand } from '../remote/script-stdin.js';
import { stripMarkers } from '../remote/transport.js';
import type { HostContext, Stage } from './types.js';

/**
 * `deploy run`: the user's command inside `current`. It is the user's own shell text, so it is
 * evaluated as written (userCommand), never spliced into our script or passed as an argument.
 */
export const runInCurrent = (command: string): Stage<HostContext> => ({
  id: 'run',
  title: 'Run a command in current',
  plan: (ctx) => [userCommand(command, ctx.paths.current)],
  interpret: (outcome, ctx) =>
    new DeployError('ERUN', {
      host: ctx.alias,
      exitCode: outcome.exitCode,
      stdout: outcome.stdout,
      stderr: stripMarkers(outcome.stderr),
    }),
});
