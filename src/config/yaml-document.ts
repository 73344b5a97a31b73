import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Pair } from 'yaml';

type Path = (string | number)[];

/** A problem the YAML layer found: where it starts in the text, the key it is about if known. */
export interface YamlProblem {
  offset: number;
  /** The path of the key, or undefined for a problem of the text itself (shown as `(yaml)`). */
  path?: Path;
  message: string;
}

export interface YamlDocument {
  doc: Document;
  counter: LineCounter;
  problems: YamlProblem[];
  /**
   * False when the library had to guess the document's shape (an unclosed bracket, a bad indent):
   * the schema would then report problems the user never wrote, so it must not run.
   */
  trusted: boolean;
}

/**
 * Library errors that leave the document exactly as written apart from one node, so the schema
 * still runs and its problems are reported in the same run. Anything else is a syntax error after
 * which the library's tree is a guess.
 */
const RECOVERABLE = new Set(['BAD_DQ_ESCAPE', 'MULTIPLE_ANCHORS', 'MULTIPLE_TAGS', 'MULTIPLE_DOCS']);

function libraryMessage(code: string, message: string): string {
  if (/Maximum call stack/.test(message))
    return 'the document nests too deeply to read — a deploy.yml is a few levels deep; fix the YAML';
  // The library's own text ("please use YAML.parseAllDocuments()") speaks to programmers.
  if (code === 'MULTIPLE_DOCS')
    return 'a second YAML document starts here and is not read — a deploy.yml is one document: remove this `---` and merge what follows into the first';
  return `${message.split('\n')[0]} — fix the YAML syntax`;
}

const keyName = (pair: Pair): string | undefined => (isScalar(pair.key) ? String(pair.key.value) : undefined);

/**
 * Keys set twice in one mapping. The library's own check (`uniqueKeys`) gives a position and no
 * key, so it is off and this walk names the key and its path. Every later one is reported: the
 * last one is what the document reads as (and what the schema checks), whatever the user meant.
 * The walk keeps its own stack, so a deeply nested document cannot overflow it.
 */
function duplicateKeys(doc: Document, counter: LineCounter): YamlProblem[] {
  const found: YamlProblem[] = [];
  const stack: { node: unknown; path: Path }[] = [{ node: doc.contents, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (isSeq(node)) node.items.forEach((item, i) => stack.push({ node: item, path: [...path, i] }));
    if (!isMap(node)) continue;
    const first = new Map<string, Pair>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = keyName(pair);
      if (key === undefined) continue;
      stack.push({ node: pair.value, path: [...path, key] });
      const earlier = first.get(key);
      if (!earlier) {
        first.set(key, pair);
        continue;
      }
      const line = counter.linePos((earlier.key as { range?: [number] }).range?.[0] ?? 0).line;
      found.push({
        offset: (pair.key as { range?: [number] }).range?.[0] ?? 0,
        path: [...path, key],
        message: `duplicate key \`${key}\` (also on line ${line}) — remove one of them; only the last one is read`,
      });
    }
  }
  return found;
}

/** Parses deploy.yml into a document and every problem of its YAML, without throwing. */
export function readYamlDocument(text: string): YamlDocument {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: false });
  const problems: YamlProblem[] = doc.errors.map((e) => ({
    offset: e.pos[0],
    message: libraryMessage(e.code, e.message),
  }));
  const trusted = doc.errors.every((e) => RECOVERABLE.has(e.code));
  // On a guessed tree, a "duplicate" may be two keys the user wrote in different mappings.
  if (trusted) problems.push(...duplicateKeys(doc, counter));
  return { doc, counter, problems, trusted };
}
