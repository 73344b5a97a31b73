import type { Note } from '../definitions/note.js';
import type { PublicReport } from './public-share.js';

const list = (items: readonly string[], max = 10): string =>
  items.length > max ? `${items.slice(0, max).join(', ')} and ${items.length - max} more` : items.join(', ');

/**
 * The public-sharing report as reporter lines: the counts (unless they are told later), each
 * conflict and surprise as a warning.
 */
export function publicNotes(
  r: PublicReport,
  publicDir: string,
  o: { counts: boolean } = { counts: true },
): Note[] {
  const notes: Note[] = [];
  if (o.counts)
    notes.push({
      level: 'info',
      message: `${publicDir}/: ${r.added} file(s) added to shared, ${r.updated} updated, ${r.leftAlone} left alone (edited in shared), ${r.unchanged} unchanged`,
    });
  if (r.moved.length)
    notes.push({ level: 'info', message: `${publicDir}/: moved into shared: ${list(r.moved)}` });
  if (r.adopted.length)
    notes.push({
      level: 'warn',
      message: `${publicDir}/: the running app created ${list(r.adopted)} inside the live release; moved into shared and linked`,
    });
  if (r.replaced.length)
    notes.push({
      level: 'warn',
      message: `${publicDir}/: the running app replaced its link to ${list(r.replaced)} with a newer file of its own in the live release; that file is now in shared and linked, the version it replaced kept in shared/.history/`,
    });
  for (const c of r.conflicts)
    notes.push({
      level: 'warn',
      message: `conflict: shared/${publicDir}/${c} was edited on the server; kept it, the release's version is not live`,
    });
  for (const q of r.rescued)
    notes.push({ level: 'warn', message: `rescued ${q} (a copy of it already existed in shared)` });
  if (r.excludedInShared.length)
    notes.push({
      level: 'warn',
      message: `shared/${publicDir}/ holds excluded entries (${list(r.excludedInShared)}), left by an older layout: not linked, not deleted; remove them by hand once you are sure`,
    });
  for (const w of r.warnings) notes.push({ level: 'warn', message: w });
  return notes;
}
