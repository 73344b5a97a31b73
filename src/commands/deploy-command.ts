import { rollout } from '../engine/rollout.js';
import { selectHosts } from '../engine/selector.js';
import { confirmRun, question, type Ask } from './confirm-run.js';
import { dryRunCommand } from './dry-run.js';
import {
  applySourceFlags,
  hostsJson,
  loadForOutput,
  printErrors,
  type LifecycleOptions,
} from './lifecycle-options.js';
import { keepOldGenerationSmall } from './process-memory.js';

export interface DeployCommandOptions extends LifecycleOptions {
  limit?: number;
  /** false with `--no-atomic`: each host switches when it is ready. */
  atomic?: boolean;
  dryRun?: boolean;
  /** `--revision <ref>`: deploy that commit; overrides `revision:` in deploy.yml. */
  revision?: string;
  /** `--require-clean`: refuse a work tree with uncommitted changes. */
  requireClean?: boolean;
  /** `--skip-unchanged` / `--no-skip-unchanged`; undefined leaves deploy.yml's `skip_unchanged`. */
  skipUnchanged?: boolean;
  /** `--artifact <id>`: deploy that artifact from the store; overrides `artifact:` and `revision:`. */
  artifact?: string;
  signal?: AbortSignal;
  /** For tests: answers the confirmation of a `confirm: true` host. */
  ask?: Ask;
}

export async function deployCommand(o: DeployCommandOptions): Promise<number> {
  if (o.dryRun) return dryRunCommand(o);
  // Now that the modules have loaded (see process-memory.ts).
  keepOldGenerationSmall();
  const { loaded, out } = loadForOutput(o);
  applySourceFlags(loaded.config, o);
  const { config } = loaded;
  const selected = selectHosts(config, o.selector, o.limit);
  await confirmRun(config, selected, question(`Deploy ${config.application} to`, selected), o, out.sanitise);
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
      ...(result.unchanged ? { unchanged: true } : {}),
      revision: result.revision,
      artifact: result.artifact,
      exitCode: result.exitCode,
      hosts: hostsJson(result.outcomes),
    });
  }
  printErrors(
    out,
    result.error,
    result.outcomes.map((h) => h.error),
  );
  return result.exitCode;
}
