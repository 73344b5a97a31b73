import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { isDeployError } from '../../src/definitions/errors.js';
import { runCli, tmpDir } from '../support/project.js';
import { startSshd, type SshdServer } from '../support/sshd.js';
import { recordScenario } from './support/reliability.js';

const refused = 'each: ECONFIG (exit 2) with file:line:column per problem; never another exception';

const fuzzed = (scenario: string, runs: number, result: string) =>
  recordScenario({
    group: 'bad input',
    scenario,
    how: 'in-process',
    runs,
    result,
    guarantee: 'No deploy.yml, however broken, crashes the loader or reaches a host',
  });

const valid = {
  application: 'shop',
  keep_releases: 3,
  shared_dirs: ['storage'],
  shared_files: ['.env'],
  hosts: { web: { hostname: '127.0.0.1', port: 2222, deploy_path: '/srv/shop', stage: 'production' } },
};

/**
 * Either a valid config or a config error (never another exception): 'ok', or the key of every
 * problem the error lists, each of which also points at a line and column.
 */
function outcome(text: string): 'ok' | string[] {
  try {
    parseConfig(text, 'deploy.yml', {});
    return 'ok';
  } catch (e) {
    if (!isDeployError(e, 'ECONFIG')) throw e;
    expect(e.exitCode).toBe(2);
    const list = e.details.list;
    expect(list.length).toBeGreaterThan(0);
    for (const line of list) expect(line).toMatch(/^deploy\.yml:\d+:\d+: \S/);
    return list.map(problemKey);
  }
}

/** One name of a dotted key: plain, in JSON quotes when it holds odd characters such as `: `, or `(top level)`. */
const NAME = String.raw`(?:"(?:\\.|[^"\\])*"|\([^)]*\)|[^\s".:]+)`;
const PROBLEM = new RegExp(String.raw`^deploy\.yml:\d+:\d+: (${NAME}(?:\.${NAME})*): `, 's');

/** The key a problem line names: `hosts.web.port`, `": "` (a key that is a colon and a space). */
const problemKey = (line: string): string => PROBLEM.exec(line)![1]!;

/** The key as the loader names it: `hosts.web.port`, with odd names in JSON quotes. */
const keyOf = (at: Path): string =>
  at.map((k) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k))).join('.');

/** A problem is about the mutated key when one of the two keys contains the other. */
const about = (problem: string, at: Path): boolean => {
  const key = keyOf(at);
  return problem === key || problem.startsWith(`${key}.`) || key.startsWith(`${problem}.`);
};

const anyValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 3 }),
  fc.constant('x'.repeat(200_000)),
  fc.constant('${MISSING_VAR}'),
);

type Path = string[];
const paths: Path[] = [
  ['application'],
  ['keep_releases'],
  ['shared_dirs'],
  ['shared_files'],
  ['hosts'],
  ['hosts', 'web'],
  ['hosts', 'web', 'deploy_path'],
  ['hosts', 'web', 'port'],
  ['hosts', 'web', 'hostname'],
  ['hosts', 'web', 'stage'],
  ['hosts', 'web', 'labels'],
  ['source'],
  ['exclude'],
];

function setAt(obj: any, at: Path, value: unknown): any {
  const copy = structuredClone(obj);
  let cur = copy;
  for (const k of at.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k];
  }
  if (value === undefined) delete cur[at.at(-1)!];
  else cur[at.at(-1)!] = value;
  return copy;
}

/** A valid config changed in one place, and that place. */
const mutation: fc.Arbitrary<{ doc: unknown; at: Path }> = fc.oneof(
  fc
    .record({ at: fc.constantFrom(...paths), value: anyValue })
    .map(({ at, value }) => ({ doc: setAt(valid, at, value), at })),
  fc.constantFrom(...paths).map((at) => ({ doc: setAt(valid, at, undefined), at })),
  fc
    .record({ at: fc.constantFrom(...paths), key: fc.string({ minLength: 1, maxLength: 12 }) })
    .map(({ at, key }) => {
      const where = [...at.slice(0, -1), key];
      return { doc: setAt(valid, where, 'surprise'), at: where };
    }),
  fc.integer({ min: 1, max: 300 }).map((depth) => {
    let v: unknown = 'deep';
    for (let i = 0; i < depth; i++) v = { nest: v };
    const at = ['hosts', 'web', 'labels'];
    return { doc: setAt(valid, at, v), at };
  }),
);

const bomb = (levels: number) => {
  const lines = ['application: x', 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i <= levels; i++) {
    lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  }
  return lines.join('\n') + '\n';
};

/** fast-check calls the property exactly this often when it holds: the rows' run counts. */
const [DOCUMENTS, TEXTS, MUTATIONS] = [300, 300, 400];

describe('deploy.yml fuzzing', () => {
  // Neither generator can produce the keys a valid config needs (application, hosts with a
  // deploy_path), so every document must be refused, with a line and column for each problem.
  it('random YAML documents end in a config error, never an exception', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (doc) => {
        expect(outcome(stringify(doc))).toEqual(expect.any(Array));
      }),
      { numRuns: DOCUMENTS },
    );
    fuzzed('fast-check: random YAML documents', DOCUMENTS, refused);
  });

  it('random text, including broken YAML and unicode, ends in a config error', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expect(outcome(text)).toEqual(expect.any(Array));
      }),
      { numRuns: TEXTS },
    );
    fuzzed('fast-check: random text, broken YAML, binary and unicode', TEXTS, refused);
  });

  it('mutations of a valid config are either valid or config errors that name the changed key', () => {
    let errors = 0;
    fc.assert(
      fc.property(mutation, ({ doc, at }) => {
        const result = outcome(stringify(doc));
        if (result === 'ok') return;
        errors++;
        expect(
          result.some((problem) => about(problem, at)),
          `${keyOf(at)} not among ${result.join(', ')}`,
        ).toBe(true);
      }),
      { numRuns: MUTATIONS },
    );
    expect(errors).toBeGreaterThan(MUTATIONS / 4);
    fuzzed(
      'fast-check: mutations of a valid config (types, unknown keys, huge strings, deep nesting)',
      MUTATIONS,
      'each: a valid config, or ECONFIG (exit 2) with file:line:column per problem, one of them naming the changed key; never another exception',
    );
  });

  it('a problem line is read back as the key it names, odd keys included', () => {
    expect(problemKey('deploy.yml:2:3: hosts.web.port: expected a number')).toBe('hosts.web.port');
    expect(problemKey('deploy.yml:9:1: ": ": unknown key')).toBe('": "');
    expect(problemKey('deploy.yml:9:1: hosts."a: b".port: unknown key')).toBe('hosts."a: b".port');
    expect(problemKey('deploy.yml:1:1: (yaml): Excessive alias count')).toBe('(yaml)');
    expect(problemKey('deploy.yml:1:1: (top level): must be a mapping')).toBe('(top level)');
  });

  it('an alias bomb is refused without expanding it', () => {
    expect(outcome(bomb(9))).toEqual(['(yaml)']);
    fuzzed(
      'YAML alias bomb (10^9 expansions)',
      1,
      'ECONFIG (exit 2): "Excessive alias count", before any expansion',
    );
  });
});

describe('bad input through the CLI', () => {
  let server: SshdServer;
  let dir: string;
  beforeAll(async () => {
    server = await startSshd();
    dir = tmpDir('shipshape-fuzz-');
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exits 2 with a message, no stack trace and no connection, for nasty files', async () => {
    const host = { hostname: server.host, port: server.port, deploy_path: '/srv/x' };
    const files: [string, Buffer | string][] = [
      ['non-utf8.yml', Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a, 0xc3, 0x28])],
      ['bomb.yml', bomb(9)],
      [
        'huge-string.yml',
        stringify({ ...valid, application: 'x'.repeat(2_000_000), hosts: { web: host }, x: 1 }),
      ],
      ['deep.yml', `${'['.repeat(5000)}${']'.repeat(5000)}\n`],
      ['unknown-key.yml', stringify({ ...valid, hosts: { web: { ...host, deploy_pth: '/x' } } })],
      ['empty.yml', ''],
      ['binary.yml', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
    ];
    const before = await server.connections();
    for (const [name, content] of files) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content);
      const r = await runCli(['-c', file, 'web']);
      expect(r.code, `${name}: ${r.output.slice(0, 500)}`).toBe(2);
      expect(r.stderr, name).toMatch(/error E[A-Z]+: /);
      expect(r.stderr, name).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
    }
    expect(await server.connections()).toBe(before);
    recordScenario({
      group: 'bad input',
      how: 'cli',
      scenario:
        'nasty files through the CLI (non-UTF-8, binary, bomb, 2 MB string, 5000-deep nesting, empty)',
      runs: files.length,
      result: 'each: exit 2 with an error code and message, no stack trace, zero connections to sshd',
      guarantee: 'Garbage in never opens a connection',
    });
  });
});
