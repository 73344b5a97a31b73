import type { DryRunHost } from '../engine/dry-run.js';

/** What `deploy --dry-run` shows: per host, each phase's stages and the exact script it would send. */
export function formatDryRun(hosts: readonly DryRunHost[]): string {
  const out: string[] = [];
  for (const h of hosts) {
    out.push(`=== ${h.host}${h.release ? `: would deploy release ${h.release}` : ''}`);
    if (h.error) {
      out.push(`error ${h.error.code}: ${h.error.message}`, '');
      continue;
    }
    out.push(`current: ${h.current ?? '(none)'}`);
    for (const note of h.notes) out.push(`note: ${note}`);
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
