import { buildArtifact } from '../engine/build-artifact.js';
import { listArtifacts, pruneArtifacts } from '../engine/artifacts.js';
import { formatTable } from '../ui/table.js';
import { formatBytes } from '../ui/progress.js';
import { applySourceFlags, loadForOutput } from './lifecycle-options.js';
import { toDeployError } from '../engine/deploy.js';
import type { Output } from '../ui/output.js';

export interface BuildCommandOptions {
  config: string;
  revision?: string;
  requireClean?: boolean;
  json?: boolean;
  signal?: AbortSignal;
}

/**
 * `deploy build`: stdout holds the id alone (or the JSON result), so a CI job can take it with
 * `$(…)`; what the build does goes to stderr.
 */
export async function buildCommand(o: BuildCommandOptions): Promise<number> {
  const { loaded, out } = loadForOutput(o);
  // A build reads the source (or --revision), never an artifact deploy.yml may name.
  loaded.config.artifact = undefined;
  applySourceFlags(loaded.config, { revision: o.revision, requireClean: o.requireClean });
  // Progress on stderr (as with --json), so stdout holds the id alone.
  const reporter = out.reporter({ json: true });
  try {
    const built = await buildArtifact(loaded, reporter, o.signal);
    const stored = built.existed
      ? `already in ${built.store}${built.uploaded.objects ? `; ${built.uploaded.objects} missing object(s) stored again` : ''}`
      : `stored in ${built.store}: ${built.uploaded.objects} new object(s), ${formatBytes(built.uploaded.bytes)}`;
    reporter.log(
      'info',
      `artifact ${built.id} (revision ${built.revision ?? 'none'}): ${built.size.files} files, ${formatBytes(built.size.bytes)}; ${stored}`,
    );
    if (o.json) {
      out.json({
        id: built.id,
        revision: built.revision,
        store: built.store,
        files: built.size.files,
        bytes: built.size.bytes,
        existed: built.existed,
        uploaded: built.uploaded,
      });
    } else out.stdout(`${built.id}\n`);
    return 0;
  } catch (e) {
    const error = toDeployError(e, 'local');
    if (o.json) out.json({ error: { code: error.code, message: error.message, hint: error.hint } });
    return failed(out, error);
  }
}

/** A failure of the store (or of reading the hosts) as a person reads it; its exit code. */
function failed(out: Output, e: unknown): number {
  const error = toDeployError(e, 'local');
  out.error(error);
  return error.exitCode;
}

export interface ArtifactsCommandOptions {
  config: string;
  json?: boolean;
  keep?: number;
  parallel?: number;
  signal?: AbortSignal;
}

/** `deploy artifacts list`: the store's artifacts, newest first (the store alone; no host is contacted). */
export async function artifactsListCommand(o: ArtifactsCommandOptions): Promise<number> {
  const { loaded, out } = loadForOutput(o);
  try {
    const { store, artifacts } = await listArtifacts(loaded);
    if (o.json) {
      out.json({ store, artifacts });
      return 0;
    }
    const rows = artifacts.map((a) => [
      a.id,
      a.revision ?? '-',
      String(a.files),
      formatBytes(a.bytes),
      a.stored,
    ]);
    const lines = artifacts.length
      ? formatTable(['ID', 'REVISION', 'FILES', 'SIZE', 'STORED'], rows)
      : [`no artifacts in ${store}`];
    for (const l of lines) out.stdout(`${l}\n`);
    return 0;
  } catch (e) {
    return failed(out, e);
  }
}

/** `deploy artifacts prune --keep <n>`: reads every host's release log, then removes what nothing keeps. */
export async function artifactsPruneCommand(o: ArtifactsCommandOptions & { keep: number }): Promise<number> {
  const { loaded, out } = loadForOutput(o);
  try {
    const r = await pruneArtifacts(loaded, o.keep, { signal: o.signal, parallel: o.parallel });
    if (o.json) {
      out.json(r);
      return 0;
    }
    const lines = [
      `${r.store}: kept ${r.kept.length} artifact(s), removed ${r.removed.length} and ${r.removedObjects} object(s) only they used`,
      ...r.inUse.map((u) => `  kept ${u.id}: a release on ${u.hosts.join(', ')} uses it`),
      ...r.removed.map((id) => `  removed ${id}`),
    ];
    for (const l of lines) out.stdout(`${l}\n`);
    return 0;
  } catch (e) {
    return failed(out, e);
  }
}
