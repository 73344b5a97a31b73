import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

/**
 * The layer order of docs/architecture.md, top to bottom. A folder may import from its own layer
 * and the layers below it, never from one above; folders of one layer must not import each other
 * in a circle. Files directly under src/ (cli.ts, index.ts) and the bin's loader (startup/) are the top.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['.', 'startup'],
  ['commands'],
  ['ui'],
  ['engine'],
  ['stages'],
  ['layout', 'persistence'],
  ['remote', 'source'],
  ['ssh', 'config'],
  ['definitions'],
];

const layerOf = (folder: string): number => LAYERS.findIndex((l) => l.includes(folder));

/** Every relative import of every .ts file under src/, as [importing folder, imported folder, file]. */
function folderImports(): [string, string, string][] {
  const out: [string, string, string][] = [];
  const walk = (dir: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, d.name);
      if (d.isDirectory()) walk(abs);
      else if (d.name.endsWith('.ts')) {
        const text = fs.readFileSync(abs, 'utf8');
        for (const m of text.matchAll(/(?:from|import\(?)\s*'(\.{1,2}\/[^']+)'/g)) {
          const target = path.resolve(path.dirname(abs), m[1]!);
          const folder = (p: string) => path.relative(SRC, path.dirname(p)).split(path.sep)[0] || '.';
          out.push([folder(abs), folder(target), path.relative(SRC, abs)]);
        }
      }
    }
  };
  walk(SRC);
  return out;
}

describe('layers of src/', () => {
  const imports = folderImports();

  it('every folder of src/ has a layer', () => {
    const folders = fs
      .readdirSync(SRC, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(folders.filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it('no file imports from a layer above its own', () => {
    const upward = imports
      .filter(([from, to]) => layerOf(to) < layerOf(from))
      .map(([from, to, file]) => `${file} (${from}) imports ${to}`);
    expect([...new Set(upward)]).toEqual([]);
  });

  it('no import cycle between folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const [from, to] of imports) {
      if (from === to) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
    const cycles: string[] = [];
    const visit = (node: string, chain: string[]) => {
      for (const next of edges.get(node) ?? []) {
        if (next === chain[0]) cycles.push([...chain, next].join(' -> '));
        else if (!chain.includes(next) && next > chain[0]!) visit(next, [...chain, next]);
      }
    };
    for (const node of edges.keys()) visit(node, [node]);
    expect(cycles).toEqual([]);
  });
});
