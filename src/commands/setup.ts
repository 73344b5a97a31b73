import fs from 'node:fs';
import path from 'node:path';
import { isSafeRelative, stripTrailingSlash } from '../config/paths.js';
import { createMask, fileSecrets } from '../config/secrets.js';
import { DeployError, isDeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { toDeployError } from '../engine/deploy.js';
import { worstExit } from '../engine/exit-status.js';
import { runStages } from '../engine/executor.js';
import { withHostSessions } from '../engine/host-session.js';
import { MemoryReporter } from '../engine/reporter.js';
import { basePersistence } from '../persistence/app-persistence.js';
import { setupCommandFor } from '../stages/put-hint.js';
import { putMode, readSetupLines, serverSetup, type PutFile } from '../stages/server-setup.js';
import { formatSetup, type HostSetup } from '../ui/setup-report.js';
import { createOutput } from '../ui/output.js';
import { errorJson, hostOptions, loadForOutput, type CommonOptions } from './lifecycle-options.js';

export interface SetupCommandOptions extends CommonOptions {
  selector: string[];
  /** `LOCAL:SHARED_PATH`, repeatable. */
  put?: string[];
  force?: boolean;
  parallel?: number;
  signal?: AbortSignal;
}

/**
 * `--put LOCAL:SHARED_PATH`, split at the last `:` (a local path may hold one, a shared path
 * rarely does). Read and checked here, all of them, before any host is contacted.
 */
function readPuts(specs: readonly string[], cwd = process.cwd()): PutFile[] {
  const problems: string[] = [];
  const puts: PutFile[] = [];
  for (const spec of specs) {
    const at = spec.lastIndexOf(':');
    const local = at > 0 ? spec.slice(0, at) : '';
    const target = at > 0 ? stripTrailingSlash(spec.slice(at + 1)) : '';
    if (!local || !target || !isSafeRelative(target)) {
      problems.push(
        `--put ${spec}: expected LOCAL:SHARED_PATH, SHARED_PATH relative to shared/ without \`..\` (e.g. .env.production:.env)`,
      );
      continue;
    }
    try {
      const abs = path.resolve(cwd, local);
      if (!fs.statSync(abs).isFile()) throw new Error('not a regular file');
      puts.push({ local, target, content: fs.readFileSync(abs) });
    } catch (e) {
      problems.push(
        `--put ${spec}: cannot read ${local} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  }
  const twice = puts.map((p) => p.target).filter((t, i, all) => all.indexOf(t) !== i);
  for (const t of new Set(twice)) problems.push(`--put names shared/${t} more than once`);
  if (problems.length) throw new DeployError('EUSAGE', { reason: problems.join('\n') });
  return puts;
}

/**
 * `deploy setup <selector> [--put LOCAL:SHARED_PATH]... [--force]`: prepares each host before
 * its first deploy and prints, per host, what it did and what is still missing. Exit 0 when no
 * host has a problem (missing shared files are listed, not failures: the next step is to put
 * them), 1 when one has, the usual codes when a host cannot be reached.
 */
export async function setupCommand(o: SetupCommandOptions): Promise<number> {
  const { loaded, out: configOut } = loadForOutput(o);
  const puts = readPuts(o.put ?? []);
  const { config } = loaded;
  const persistence = basePersistence(config);
  const { writable } = persistence;
  const secrets = puts.flatMap((p) => fileSecrets(p.content.toString('utf8')));
  // The files put on the hosts are secrets too: masked like the configuration's.
  const mask = (t: string) => createMask(secrets, {})(configOut.sanitise.mask(t));
  const out = createOutput({ mask, verbose: o.verbose });
  const reporter = new MemoryReporter();
  reporter.log = (level, message, host) => out.stderr(`${host ? `${host}: ` : ''}${level}: ${message}\n`);

  const results = await withHostSessions(
    { ...hostOptions(o, loaded), reporter, command: ['deploy setup', ...o.selector].join(' ') },
    (sessions) =>
      Promise.all(
        sessions.map(async (s): Promise<HostSetup> => {
          if (s.error) return { host: s.alias, lines: [], error: s.error };
          const ctx = { ...s.ctx, persistence, writable, puts, force: !!o.force };
          try {
            const out = await runStages(s.runner, [serverSetup], ctx, { quiet: true });
            const setupFor = (files: readonly string[]) => setupCommandFor(s.ctx, files);
            return { host: s.alias, lines: readSetupLines(out.stdout), setupFor };
          } catch (e) {
            return { host: s.alias, lines: [], error: isDeployError(e) ? e : toDeployError(e, s.alias) };
          }
        }),
      ),
  );

  const how = putMode(writable).how;
  if (o.json) {
    out.json({
      hosts: results.map((r) => ({ host: r.host, lines: r.lines, error: errorJson(r.error) })),
    });
  } else {
    out.stdout(formatSetup(results, { how, puts, selector: o.selector }));
    for (const r of results) if (r.error) out.error(r.error);
  }
  const codes = results.map((r) =>
    r.error ? r.error.exitCode : r.lines.some((l) => l.kind === 'problem') ? EXIT.failed : EXIT.ok,
  );
  return worstExit(codes);
}
