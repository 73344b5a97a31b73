import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root is the nearest ancestor of this module that holds package.json. Walking up
 * (instead of a fixed `../..`) keeps it right from src/ under tsx or vitest, from dist/, from the
 * bundle the bin runs (dist/bin/), and from an installed copy in node_modules.
 */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

let version: string | undefined;

/** shipshape's own version, from its package.json. */
export function packageVersion(): string {
  version ??= (
    JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
  ).version;
  return version;
}
