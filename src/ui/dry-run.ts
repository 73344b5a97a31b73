import type {
  DryRunHost,
  PlannedShared,
  PlannedSource,
  PlannedStep,
  PlannedUpload,
} from '../engine/dry-run.js';
import { formatBytes } from './progress.js';
import { createSanitiser, type Sanitiser } from './sanitise.js';

const LISTED = 5;

const some = (items: readonly string[]): string =>
  items.slice(0, LISTED).join(', ') + (items.length > LISTED ? `, and ${items.length - LISTED} more` : '');

function sourceLines(s: PlannedSource, verbose: number, clean: Sanitiser): string[] {
  const out = [`source: ${s.root}${s.revision ? ` at ${s.revision}` : ''} (${s.files} files)`];
  const changes = s.changes.map(clean.field);
  const ignored = s.ignored.map(clean.field);
  if (changes.length) out.push(`source: ${changes.length} uncommitted change(s): ${some(changes)}`);
  if (ignored.length) {
    out.push(`source: left out by git's ignore rules: ${verbose ? ignored.join(', ') : some(ignored)}`);
  }
  return out;
}

function uploadLines(u: PlannedUpload, verbose: number, clean: Sanitiser): string[] {
  const out = [
    `  send:   ${u.files} file(s) (${formatBytes(u.bytes)}), ${u.dirs} director(ies), ${u.symlinks} symlink(s)`,
    `  remove: ${u.remove.length} path(s) of the previous release, removed or replaced`,
    `  keep:   ${u.kept} file(s) of the previous release, unchanged`,
  ];
  const spare = u.spare ?? { remove: [], link: [] };
  if (u.spare) {
    out.push(
      `  spare:  a pruned release renamed into place: ${spare.remove.length} path(s) removed from it, ${spare.link.length} file(s) linked again`,
    );
  }
  if (verbose) {
    const path = clean.field;
    out.push(
      ...u.send.map((p) => `    send ${path(p)}`),
      ...u.remove.map((p) => `    remove ${path(p)}`),
      ...spare.remove.map((p) => `    spare: remove ${path(p)}`),
      ...spare.link.map((p) => `    spare: link ${path(p)}`),
    );
  } else if (u.send.length + u.remove.length + spare.remove.length + spare.link.length > 0)
    out.push('  (-v lists the paths)');
  return out;
}

function sharedLines(s: PlannedShared, clean: Sanitiser): string[] {
  const links = [
    ...s.dirs.map((d) => `${clean.field(d)}/`),
    ...s.files.map((f) => `${clean.field(f.path)}${f.optional ? ' (optional)' : ' (required)'}`),
  ];
  return [
    `  shared: ${links.length ? links.join(', ') : 'nothing'}${s.publicDir ? `; each entry of ${s.publicDir}/ but the build output` : ''}`,
  ];
}

/**
 * Our scripts print report lines that start with a marker; a person reading a command does not
 * need the protocol's name for it, only that the line is a report.
 */
const readable = (command: string): string => command.replace(/'?@@shipshape-([a-z-]+) ?'?/g, '<report:$1>');

const WHERE: Record<PlannedStep['kind'], string> = {
  stage: '',
  hook: 'hook ',
  recipe: 'recipe ',
  local: 'on this machine ',
};

function stepLines(step: PlannedStep, verbose: number): string[] {
  const label = step.kind === 'stage' ? step.id : `${WHERE[step.kind]}${step.id.replace(':', ' ')}`;
  const out = [`    ${label.padEnd(24)} ${step.text}`];
  if (verbose >= 2)
    for (const c of step.commands)
      readable(c)
        .split('\n')
        .forEach((l, i) => out.push(`        ${i === 0 ? '$' : ' '} ${l}`));
  return out;
}

/**
 * What `deploy --dry-run` shows: the source, then per host the release it would create, what the
 * upload would send, remove and keep, what it would link from shared/, and every step in the
 * order it would run. -v lists the paths; -vv adds what each step sends to the host. A file
 * name is one field of its line, so a newline in a name cannot pass for a line of the plan.
 */
export function formatDryRun(
  hosts: readonly DryRunHost[],
  source?: PlannedSource,
  verbose = 0,
  clean: Sanitiser = createSanitiser(),
): string {
  const out: string[] = source ? [...sourceLines(source, verbose, clean), ''] : [];
  for (const h of hosts) {
    out.push(`=== ${h.host}${h.release ? `: would deploy release ${h.release}` : ''}`);
    if (h.error) {
      out.push(`error ${h.error.code}: ${h.error.message}`, '');
      continue;
    }
    out.push(`  current: ${h.current ?? '(none)'}`);
    for (const note of h.notes) out.push(`  note: ${note}`);
    if (h.upload) out.push(...uploadLines(h.upload, verbose, clean));
    if (h.shared) out.push(...sharedLines(h.shared, clean));
    out.push('  steps, in order:');
    for (const p of h.phases) {
      out.push(`  ${p.phase}${p.script ? ' (one script on the host)' : ''}:`);
      for (const step of p.steps) out.push(...stepLines(step, verbose));
    }
    out.push('');
  }
  out.push('dry run: nothing was changed on any host.');
  return out.join('\n');
}
