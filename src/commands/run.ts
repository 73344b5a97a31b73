import { DeployError, isDeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { worstExit } from '../engine/exit-status.js';
import { toDeployError } from '../engine/deploy.js';
import { runStages } from '../engine/executor.js';
import { withHostSessions } from '../engine/host-session.js';
import { MemoryReporter } from '../engine/reporter.js';
import { stripMarkers } from '../remote/transport.js';
import { runInCurrent } from '../stages/run-command.js';
import { formatError } from '../ui/print-error.js';
import { selectHosts } from '../engine/selector.js';
import { confirmRun, question, type Ask } from './confirm-run.js';
import { loadForOutput, type CommonOptions } from './lifecycle-options.js';

export interface RunCommandOptions extends CommonOptions {
  selector: string;
  /** Words after `--`, joined with spaces as ssh joins them. */
  command: string[];
  parallel?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  ask?: Ask;
}

interface HostResult {
  alias: string;
  stdout: string;
  stderr: string;
  error?: DeployError;
}

/**
 * `deploy run <selector> -- <command>`: the command in `current` on every selected host, one
 * exec each. Output is printed per host once it finished, every line prefixed `[alias]`, so
 * hosts never interleave; the exit code is the worst of the hosts' (1 a command failed, 5 a host
 * could not be reached). Ctrl-C stops the command on every host.
 */
export async function runCommand(o: RunCommandOptions): Promise<number> {
  const env = o.env ?? process.env;
  const { loaded, out } = loadForOutput(o, env);
  const command = o.command.join(' ').trim();
  if (!command)
    throw new DeployError('EUSAGE', { reason: 'no command given: deploy run <selector> <command...>' });
  const selected = selectHosts(loaded.config, o.selector);
  await confirmRun(
    loaded.config,
    selected,
    question(`Run \`${command}\` (${loaded.config.application}) on`, selected),
    o,
    out.sanitise,
  );
  // Connection warnings (e.g. a host key learned) are printed as they come, like the output.
  const reporter = new MemoryReporter();
  reporter.log = (_level, message, host) => out.stderr(prefixed(host ?? '', `warning: ${message}`));

  const results = await withHostSessions(
    {
      loaded,
      selector: o.selector,
      reporter,
      signal: o.signal,
      command: `deploy run ${o.selector}`,
      parallel: o.parallel,
      env,
    },
    (sessions) =>
      Promise.all(
        sessions.map(async (s): Promise<HostResult> => {
          if (s.error) return { alias: s.alias, stdout: '', stderr: '', error: s.error };
          try {
            const out = await runStages(s.runner, [runInCurrent(command)], s.ctx, { quiet: true });
            return { alias: s.alias, stdout: out.stdout, stderr: stripMarkers(out.stderr) };
          } catch (e) {
            const error = toDeployError(e, s.alias);
            const d = isDeployError(error, 'ERUN') ? error.details : { stdout: '', stderr: '' };
            return { alias: s.alias, stdout: d.stdout, stderr: d.stderr, error };
          }
        }),
      ),
  );

  for (const { alias, stdout, stderr, error } of results) {
    // Sanitised before the prefixes split a multi-line secret apart (again after: idempotent).
    out.stdout(prefixed(alias, out.sanitise.text(stdout)));
    out.stderr(prefixed(alias, out.sanitise.text(stderr)));
    if (error) out.stderr(prefixed(alias, formatError(error, out.sanitise, { stack: !!o.verbose })));
  }
  return worstExit(results.map((r) => r.error?.exitCode ?? EXIT.ok));
}

function prefixed(alias: string, text: string): string {
  const trimmed = text.replace(/\s+$/, '');
  if (trimmed === '') return '';
  return trimmed
    .split('\n')
    .map((l) => `[${alias}] ${l}\n`)
    .join('');
}
