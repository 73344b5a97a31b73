import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type SharedInventory = Map<string, string>;

/**
 * Every file under shared/ (links and their targets' text too) with its content hash: what a user
 * or the running app owns. Our own bookkeeping under shared/.shipshape is left out: it may change.
 */
export function inventoryShared(deployPath: string): SharedInventory {
  const root = path.join(deployPath, 'shared');
  const out: SharedInventory = new Map();
  if (!fs.existsSync(root)) return out;
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (r === '.shipshape') continue;
      const abs = path.join(root, r);
      const st = fs.lstatSync(abs);
      if (st.isSymbolicLink()) out.set(r, `link:${fs.readlinkSync(abs)}`);
      else if (st.isDirectory()) walk(r);
      else out.set(r, createHash('sha256').update(fs.readFileSync(abs)).digest('hex'));
    }
  };
  walk('');
  return out;
}

/**
 * Problems found: a file that disappeared or changed, unless the scenario itself changed it
 * (`expectedChanges`). Files shipshape rescued into shared/.rescued count as present elsewhere
 * only if the caller says so; by default nothing may move.
 */
export function auditShared(
  before: SharedInventory,
  after: SharedInventory,
  expectedChanges: ReadonlySet<string> = new Set(),
): string[] {
  const problems: string[] = [];
  for (const [p, hash] of before) {
    if (expectedChanges.has(p)) continue;
    const now = after.get(p);
    if (now === undefined) problems.push(`lost: shared/${p}`);
    else if (now !== hash) problems.push(`changed: shared/${p}`);
  }
  return problems;
}
