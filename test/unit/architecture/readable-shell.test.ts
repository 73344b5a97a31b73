import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

/**
 * Remote shell is written as lines a reviewer can read (issue 16): every `sh` template in src/ is
 * checked line by line, as written in the source. A line that needs more is a sign the program
 * wants a named function or a few lines of its own.
 */
const MAX_LINE = 160;

function shTemplates(file: string): { line: number; text: string }[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: { line: number; text: string }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isTaggedTemplateExpression(node) && node.tag.getText(source) === 'sh') {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      node
        .getText(source)
        .split('\n')
        .forEach((text, i) => out.push({ line: start + i + 1, text }));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const abs = path.join(dir, d.name);
    return d.isDirectory() ? sourceFiles(abs) : d.name.endsWith('.ts') ? [abs] : [];
  });
}

describe('remote shell a reviewer can read', () => {
  it(`no line of an sh template in src/ is longer than ${MAX_LINE} characters`, () => {
    const long = sourceFiles(SRC).flatMap((file) =>
      shTemplates(file)
        .filter((l) => l.text.length > MAX_LINE)
        .map((l) => `${path.relative(SRC, file)}:${l.line} (${l.text.length})`),
    );
    expect([...new Set(long)]).toEqual([]);
  });
});
