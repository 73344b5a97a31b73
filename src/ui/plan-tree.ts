import type { Listing, ListedStep } from '../engine/plan-list.js';

const KIND: Record<ListedStep['kind'], string> = {
  stage: '',
  hook: '',
  local: ' (on this machine)',
  recipe: ' (recipe)',
  check: '',
};

function stepLine(s: ListedStep, indent: string): string {
  const filters = s.filters.length ? `  [${s.filters.join('; ')}]` : '';
  const label = s.kind === 'recipe' ? 'recipe' : s.at;
  return `${indent}${label.padEnd(18)} ${s.text}${KIND[s.kind]}${filters}`;
}

/** `deploy list`: the deploy stage by stage with its hooks, the events, then the tasks. */
export function formatListing(l: Listing): string {
  const out = ['deploy, in this order (each phase is one script per host):'];
  for (const p of l.phases) {
    out.push(`  ${p.phase}`);
    for (const s of p.steps) out.push(stepLine(s, '    '));
  }
  const events = l.events.filter((e) => e.steps.length);
  if (events.length) {
    out.push('', 'events:');
    for (const e of events) for (const s of e.steps) out.push(stepLine(s, '  '));
  }
  out.push(
    '',
    l.tasks.length ? 'tasks (deploy task <name> [selector]):' : 'tasks: none (add them under `tasks:`)',
  );
  for (const t of l.tasks) {
    out.push(`  ${t.name}`);
    for (const s of t.steps)
      out.push(`    ${s.text}${KIND[s.kind]}${s.filters.length ? `  [${s.filters.join('; ')}]` : ''}`);
  }
  return `${out.join('\n')}\n`;
}
