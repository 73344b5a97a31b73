import { isDeployError, type DeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { worstExit } from '../engine/exit-status.js';
import { readSource, toDeployError } from '../engine/deploy.js';
import { runStages } from '../engine/executor.js';
import { withHostSessions } from '../engine/host-session.js';
import { MemoryReporter } from '../engine/reporter.js';
import { resolveAppPersistence } from '../persistence/app-persistence.js';
import { readVerifyLines, verify, type VerifyLine } from '../stages/verify.js';
import { errorJson, hostOptions, loadForOutput } from './lifecycle-options.js';

export interface VerifyCommandOptions {
  config: string;
  selector: string[];
  json?: boolean;
  parallel?: number;
  signal?: AbortSignal;
}

interface HostVerdict {
  host: string;
  ok: boolean;
  checks: VerifyLine[];
  error?: DeployError;
}

const ICON = { ok: '✅', fail: '❌', info: 'ℹ️ ' } as const;

/** `deploy verify [selector]`: read-only checks of the shared layout; exit 0 only when every check passes. */
export async function verifyCommand(o: VerifyCommandOptions): Promise<number> {
  const { loaded, out } = loadForOutput(o);
  const source = await readSource(loaded);
  const persistence = await resolveAppPersistence(loaded.config, source.entries, undefined, source);
  const reporter = new MemoryReporter();
  // Connection warnings (a host key learned, an agent that failed) go to stderr as they come.
  reporter.log = (level, message, host) => out.stderr(`${host ? `${host}: ` : ''}${level}: ${message}\n`);

  const verdicts = await withHostSessions(
    { ...hostOptions(o, loaded), reporter, command: 'deploy verify' },
    (sessions) =>
      Promise.all(
        sessions.map(async (s): Promise<HostVerdict> => {
          const failed = (error: DeployError) => ({ host: s.alias, ok: false, checks: [], error });
          if (s.error) return failed(s.error);
          try {
            const out = await runStages(s.runner, [verify], { ...s.ctx, persistence }, { quiet: true });
            const checks = readVerifyLines(out.stdout);
            return { host: s.alias, ok: checks.every((c) => c.status !== 'fail'), checks };
          } catch (e) {
            return failed(toDeployError(e, s.alias));
          }
        }),
      ),
  );

  if (o.json) {
    const hosts = verdicts.map((v) => ({
      host: v.host,
      ok: v.ok,
      checks: v.checks,
      error: errorJson(v.error),
    }));
    out.json({ ok: verdicts.every((v) => v.ok), recipe: persistence.recipe, hosts });
  } else {
    for (const v of verdicts) {
      out.stdout(`${v.host} (recipe ${persistence.recipe}):\n`);
      for (const c of v.checks) out.stdout(`  ${ICON[c.status]} ${out.sanitise.field(c.label)}\n`);
      if (v.error) out.error(v.error);
      const failed = v.checks.filter((c) => c.status === 'fail').length;
      if (!v.error) out.stdout(failed ? `  ${failed} check(s) failed\n` : '  all checks passed\n');
    }
  }
  const errors = verdicts.map((v) => v.error).filter((e): e is DeployError => isDeployError(e));
  if (errors.length) return worstExit(errors.map((e) => e.exitCode));
  return verdicts.every((v) => v.ok) ? EXIT.ok : EXIT.failed;
}
