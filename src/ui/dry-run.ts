import type { DryRunHost, PlannedSource, PlannedUpload } from '../engine/dry-run.js';

const LISTED = 5;

const some = (items: readonly string[]): string =>
  items.slice(0, LISTED).join(', ') + (items.length > LISTED ? `, and ${items.length - LISTED} more` : '');

function sourceLines(s: PlannedSource, verbose: boolean): string[] {
  const out = [`source: ${s.root}${s.revision ? ` at ${s.revision}` : ''} (${s.files} files)`];
  if (s.changes.length) out.push(`source: ${s.changes.length} uncommitted change(s): ${some(s.changes)}`);
  if (s.ignored.length) {
    out.push(`source: left out by git's ignore rules: ${verbose ? s.ignored.join(', ') : some(s.ignored)}`);
  }
  return out;
}

function uploadLines(u: PlannedUpload, verbose: boolean): string[] {
  const out = [
    `upload: would send ${u.files} file(s) (${u.bytes} bytes), ${u.dirs} director(ies), ${u.symlinks} symlink(s); ${u.remove.length} removed or replaced; ${u.kept} kept`,
  ];
  if (verbose) {
    out.push(...u.send.map((p) => `  send ${p}`), ...u.remove.map((p) => `  remove ${p}`));
  } else if (u.send.length > 0) out.push('upload: --verbose lists the paths');
  return out;
}

/** What `deploy --dry-run` shows: the source, then per host what it would send and each phase's script. */
export function formatDryRun(hosts: readonly DryRunHost[], source?: PlannedSource, verbose = false): string {
  const out: string[] = source ? [...sourceLines(source, verbose), ''] : [];
  for (const h of hosts) {
    out.push(`=== ${h.host}${h.release ? `: would deploy release ${h.release}` : ''}`);
    if (h.error) {
      out.push(`error ${h.error.code}: ${h.error.message}`, '');
      continue;
    }
    out.push(`current: ${h.current ?? '(none)'}`);
    for (const note of h.notes) out.push(`note: ${note}`);
    if (h.upload) out.push(...uploadLines(h.upload, verbose));
    for (const p of h.phases) {
      out.push('', `--- phase ${p.phase}: ${p.stages.map((s) => s.id).join(', ')} (one exec request)`);
      for (const l of p.local) out.push(`local ${l}`);
      out.push(p.script.trimEnd());
    }
    out.push('');
  }
  out.push('dry run: nothing was changed on any host.');
  return out.join('\n');
}
