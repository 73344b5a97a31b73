import { rollout } from '../engine/rollout.js';
import { dryRunCommand } from './dry-run.js';
import { applySourceFlags, loadForOutput, printErrors } from './lifecycle-options.js';
import { keepOldGenerationSmall } from './process-memory.js';

export interface DeployCommandOptions {
  config: string;
  selector: string[];
  verbose?: boolean;
  json?: boolean;
  parallel?: number;
  limit?: number;
  /** false with `--no-atomic`: each host switches when it is ready. */
  atomic?: boolean;
  dryRun?: boolean;
  /** `--revision <ref>`: deploy that commit; overrides `revision:` in deploy.yml. */
  revision?: string;
  /** `--require-clean`: refuse a work tree with uncommitted changes. */
  requireClean?: boolean;
  /** `--artifact <id>`: deploy that artifact from the store; overrides `artifact:` and `revision:`. */
  artifact?: string;
  signal?: AbortSignal;
}

export async function deployCommand(o: DeployCommandOptions): Promise<number> {
  if (o.dryRun) return dryRunCommand(o);
  // Now that the modules have loaded (see process-memory.ts).
  keepOldGenerationSmall();
  const { loaded, out } = loadForOutput(o);
  applySourceFlags(loaded.config, o);
  const result = await rollout({
    loaded,
    selector: o.selector,
    reporter: out.reporter(o),
    signal: o.signal,
    parallel: o.parallel,
    limit: o.limit,
    atomic: o.atomic,
    command: ['deploy', ...o.selector].join(' '),
  });
  if (o.json) {
    out.json({
      release: result.release,
      revision: result.revision,
      artifact: result.artifact,
      exitCode: result.exitCode,
      hosts: result.outcomes,
    });
  }
  printErrors(
    out,
    result.error,
    result.outcomes.map((h) => h.error),
  );
  return result.exitCode;
}
