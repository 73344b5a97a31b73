import {
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Pair,
  type YAMLError,
} from 'yaml';

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

/** A merge key (`<<: *web1`): the library reads a plain `<<` as a symbol, a quoted one as text. */
const isMergeKey = (pair: Pair): boolean =>
  isScalar(pair.key) && typeof pair.key.value === 'symbol' && pair.key.value.description === '<<';

const keyName = (pair: Pair): string | undefined =>
  isMergeKey(pair) ? '<<' : isScalar(pair.key) ? String(pair.key.value) : undefined;

/** A node of the document and the key path it is at: a key's own path is its mapping's and itself. */
interface Placed {
  node: Node;
  path: Path;
}

/** Every node of the document with its path, keys included. Its own stack: deep nesting cannot overflow it. */
function placedNodes(doc: Document): Placed[] {
  const found: Placed[] = [];
  const stack: Placed[] = doc.contents ? [{ node: doc.contents, path: [] }] : [];
  while (stack.length > 0) {
    const placed = stack.pop()!;
    found.push(placed);
    const { node, path } = placed;
    if (isSeq(node))
      node.items.forEach((item, i) => {
        if (item) stack.push({ node: item as Node, path: [...path, i] });
      });
    if (!isMap(node)) continue;
    for (const pair of node.items) {
      const key = keyName(pair);
      const at = key === undefined ? path : [...path, key];
      if (pair.key) stack.push({ node: pair.key as Node, path: at });
      if (pair.value) stack.push({ node: pair.value as Node, path: at });
    }
  }
  return found;
}

/**
 * Keys set twice in one mapping. The library's own check (`uniqueKeys`) gives a position and no
 * key, so it is off and this names the key and its path. Every later one is reported: the last
 * one is what the document reads as (and what the schema checks), whatever the user meant.
 */
function duplicateKeys(nodes: readonly Placed[], counter: LineCounter): YamlProblem[] {
  const found: YamlProblem[] = [];
  for (const { node, path } of nodes) {
    if (!isMap(node)) continue;
    const first = new Map<string, Pair>();
    for (const pair of node.items) {
      const key = keyName(pair);
      // Two merge keys are both read, as one `<<` with a list of them: the first one's keys win.
      if (key === undefined || isMergeKey(pair)) continue;
      const earlier = first.get(key);
      if (!earlier) {
        first.set(key, pair);
        continue;
      }
      const line = counter.linePos((earlier.key as Node).range?.[0] ?? 0).line;
      found.push({
        offset: (pair.key as Node).range?.[0] ?? 0,
        path: [...path, key],
        message: `duplicate key \`${key}\` (also on line ${line}) — remove one of them; only the last one is read`,
      });
    }
  }
  return found;
}

/**
 * Keys written as a mapping or a list (`? {a: 1}`, `{a: 1}: x`, an alias of one). The value
 * needs text keys: the library would make one up from the collection, printing a warning of its
 * own, and the schema would then report the made-up key. So each one is reported and its pair
 * taken out of the document, which is then as written apart from that pair.
 */
function collectionKeys(doc: Document, nodes: readonly Placed[]): YamlProblem[] {
  const found: YamlProblem[] = [];
  for (const { node, path } of nodes) {
    if (!isMap(node)) continue;
    node.items = node.items.filter((pair) => {
      const key = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
      if (!isCollection(key)) return true;
      found.push({
        offset: (pair.key as Node).range?.[0] ?? 0,
        path,
        message: `this key is ${isMap(key) ? 'a mapping' : 'a list'} — a key must be a plain string: write it as a name, in quotes if it holds \`{\`, \`[\` or \`:\``,
      });
      return false;
    });
  }
  return found;
}

/**
 * Merge keys whose value is not a mapping, an alias of one, or a list of them (`<<: abc`, an
 * empty `<<:`). The library throws on one when the document is read, with no position, and no
 * other problem would be reported; so each is a problem at its value and its pair is taken out.
 */
function mergeSources(doc: Document, nodes: readonly Placed[]): YamlProblem[] {
  const found: YamlProblem[] = [];
  const resolved = (n: unknown) => (isAlias(n) ? n.resolve(doc) : n);
  const isSource = (n: unknown) => isMap(resolved(n));
  for (const { node, path } of nodes) {
    if (!isMap(node)) continue;
    node.items = node.items.filter((pair) => {
      if (!isMergeKey(pair)) return true;
      const value = resolved(pair.value);
      if (isSource(value) || (isSeq(value) && value.items.every(isSource))) return true;
      found.push({
        offset: (pair.value as Node | null)?.range?.[0] ?? (pair.key as Node).range?.[0] ?? 0,
        path: [...path, '<<'],
        message:
          'a merge key takes a mapping, or an alias of one (`<<: *web1` after `web1: &web1`), or a list of them — it gets the keys of each',
      });
      return false;
    });
  }
  return found;
}

/**
 * The node a warning is about: the one its text (a tag) belongs to is the first node after it
 * that carries a tag. A warning of the document itself (a directive) has none.
 */
function warnedNode(nodes: readonly Placed[], warning: YAMLError): Placed | undefined {
  let best: Placed | undefined;
  for (const placed of nodes) {
    const start = placed.node.range?.[0];
    if (start === undefined || start < warning.pos[1] || placed.node.tag === undefined) continue;
    if (!best || start < best.node.range![0]) best = placed;
  }
  return best;
}

/**
 * The library's warnings are about text it read as something other than written: a tag it does
 * not know (`!foo 22`, `!binary abc`) or that does not fit its value (`!!int abc`) is dropped and
 * the value read without it, so what the user meant is lost; each one is a problem of the file.
 */
function warningProblem(
  doc: Document,
  nodes: readonly Placed[],
  warning: YAMLError,
  text: string,
): YamlProblem {
  const offset = warning.pos[0];
  if (warning.code !== 'TAG_RESOLVE_FAILED' && warning.code !== 'BAD_COLLECTION_TYPE')
    return { offset, message: `${warning.message.split('\n')[0]} — fix the YAML` };
  const tag = text.slice(offset, warning.pos[1]);
  const at = warnedNode(nodes, warning);
  const known = doc.schema.tags.some((t) => t.tag === at?.node.tag);
  const message = known
    ? `the tag \`${tag}\` does not fit this value — remove the tag \`${tag}\``
    : `unknown tag \`${tag}\` — remove the tag \`${tag}\``;
  return { offset, path: at?.path, message };
}

/** The YAML 1.1 types whose values are no text, number, boolean, list or mapping (by name or tag). */
const UNREAD = ['binary', 'omap', 'pairs', 'set', 'timestamp'];
const UNREAD_TAGS = new Set([...UNREAD, ...UNREAD.map((t) => `tag:yaml.org,2002:${t}`)]);

/**
 * Parses deploy.yml into a document and every problem of its YAML, without throwing. A pair whose
 * key is a mapping or a list is taken out of the document (see collectionKeys).
 */
export function readYamlDocument(text: string): YamlDocument {
  const counter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: counter,
    prettyErrors: false,
    uniqueKeys: false,
    // The YAML 1.1 types (`!!binary`, `!!set`, `!!timestamp`) would reach the schema as a Buffer,
    // a Set or a Date; unresolved, they are warnings below like any other tag. A `%YAML 1.1`
    // document has them in its schema itself (a date even untagged): they are taken out of it.
    resolveKnownTags: false,
    // `<<: *web1` shares one host's settings with another, as in Compose files and most YAML
    // configs; YAML 1.2 left merge keys out, the library reads them when asked.
    merge: true,
    customTags: (tags) => tags.filter((t) => !UNREAD_TAGS.has(typeof t === 'string' ? t : t.tag)),
    // At 'warn', toJS() prints what it thinks wrong (process.emitWarning): only our output may print.
    logLevel: 'error',
  });
  const problems: YamlProblem[] = doc.errors.map((e) => ({
    offset: e.pos[0],
    message: libraryMessage(e.code, e.message),
  }));
  const trusted = doc.errors.every((e) => RECOVERABLE.has(e.code));
  const nodes = placedNodes(doc);
  for (const w of doc.warnings) problems.push(warningProblem(doc, nodes, w, text));
  // On a guessed tree, a "duplicate" may be two keys the user wrote in different mappings.
  if (trusted)
    problems.push(
      ...duplicateKeys(nodes, counter),
      ...collectionKeys(doc, nodes),
      ...mergeSources(doc, nodes),
    );
  return { doc, counter, problems, trusted };
}
