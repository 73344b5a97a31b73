import { DeployError } from '../definitions/errors.js';
import { sh } from '../remote/sh.js';
import { stripMarkers } from '../remote/transport.js';
import type { HostContext, Stage } from './types.js';

/**
 * `deploy run`: the user's command, run by `/bin/sh -c` inside `current`. The command is the
 * user's own shell text, so it is passed to sh as one quoted argument rather than spliced in.
 */
export const runInCurrent = (command: string): Stage<HostContext> => ({
  id: 'run',
  title: 'Run a command in current',
  plan: (ctx) => [sh`cd ${ctx.paths.current} && /bin/sh -c ${command}`],
  interpret: (outcome, ctx) =>
    new DeployError('ERUN', {
      host: ctx.alias,
      exitCode: outcome.exitCode,
      stdout: outcome.stdout,
      stderr: stripMarkers(outcome.stderr),
    }),
});
