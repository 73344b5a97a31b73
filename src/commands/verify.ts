import { randomUUID } from 'node:crypto';
import { loadConfig } from '../config/load.js';
import { isDeployError, type DeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { runStages } from '../engine/executor.js';
import { deployPaths } from '../engine/paths.js';
import { eachLimited } from '../engine/pool.js';
import { MemoryReporter } from '../engine/reporter.js';
import { readRunInfo } from '../engine/run-info.js';
import { selectHosts } from '../engine/selector.js';
import { toDeployError } from '../engine/deploy.js';
import { resolveAppPersistence } from '../persistence/app-persistence.js';
import { connectHost } from '../remote/connect.js';
import { readIgnorePatterns, scanSource } from '../source/scan.js';
import { readVerifyLines, verify, type VerifyLine } from '../stages/verify.js';
import { sharedFileSecrets } from '../config/secrets.js';
import { createMask } from '../config/secrets.js';
import { formatError } from '../ui/print-error.js';

export interface VerifyCommandOptions {
  config: string;
  selector: string[];
  json?: boolean;
  parallel?: number;
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
  const loaded = loadConfig(o.config);
  const { config } = loaded;
  const mask = createMask([...loaded.secrets, ...sharedFileSecrets(loaded.config)]);
  const selected = selectHosts(config, o.selector);
  const entries = await scanSource(config.source, await readIgnorePatterns(config.source, config.exclude));
  const persistence = await resolveAppPersistence(config, entries);
  const run = readRunInfo('deploy verify');
  const reporter = new MemoryReporter();

  const results = await eachLimited(
    selected,
    o.parallel ?? 10,
    async ({ alias, host }): Promise<HostVerdict> => {
      const transport = await connectHost(alias, host, process.env, { config });
      try {
        const ctx = {
          alias,
          host,
          config,
          paths: deployPaths(host.deploy_path),
          run,
          lockToken: randomUUID(),
          persistence,
        };
        const out = await runStages({ alias, transport, reporter }, [verify], ctx, { quiet: true });
        const checks = readVerifyLines(out.stdout);
        return { host: alias, ok: checks.every((c) => c.status !== 'fail'), checks };
      } finally {
        await transport.close().catch(() => undefined);
      }
    },
  );
  const verdicts: HostVerdict[] = results.map((r, i) =>
    r.status === 'fulfilled'
      ? r.value
      : {
          host: selected[i]!.alias,
          ok: false,
          checks: [],
          error: toDeployError(r.reason, selected[i]!.alias),
        },
  );

  if (o.json) {
    const hosts = verdicts.map((v) => ({
      host: v.host,
      ok: v.ok,
      checks: v.checks,
      error: v.error && { code: v.error.code, message: v.error.message, hint: v.error.hint },
    }));
    process.stdout.write(
      mask(JSON.stringify({ ok: verdicts.every((v) => v.ok), recipe: persistence.recipe, hosts }, null, 2)) +
        '\n',
    );
  } else {
    for (const v of verdicts) {
      process.stdout.write(`${v.host} (recipe ${persistence.recipe}):\n`);
      for (const c of v.checks) process.stdout.write(mask(`  ${ICON[c.status]} ${c.label}\n`));
      if (v.error) process.stderr.write(`${formatError(v.error, mask)}\n`);
      const failed = v.checks.filter((c) => c.status === 'fail').length;
      if (!v.error) process.stdout.write(failed ? `  ${failed} check(s) failed\n` : '  all checks passed\n');
    }
  }
  const errors = verdicts.map((v) => v.error).filter((e): e is DeployError => isDeployError(e));
  if (errors.length) return Math.max(...errors.map((e) => e.exitCode));
  return verdicts.every((v) => v.ok) ? EXIT.ok : EXIT.failed;
}
