import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configProblems } from '../support/errors.js';

const valid = `application: shop
hosts:
  web1:
    hostname: web1.example.com
    deploy_path: /srv/shop
    stage: production
`;

const problems = (text: string, env: NodeJS.ProcessEnv = {}): string[] =>
  configProblems(() => parseConfig(text, 'deploy.yml', env));

describe('parseConfig accepts', () => {
  it('a minimal config, filling defaults', () => {
    const { config } = parseConfig(valid, '/tmp/x/deploy.yml', {});
    expect(config.keep_releases).toBe(5);
    expect(config.source).toBe('/tmp/x');
    expect(config.hosts.web1?.labels).toEqual({});
  });

  it('${VAR} and ${VAR:-default} from the environment, remembering the values as secrets', () => {
    const text = valid.replace('web1.example.com', '${HOST}').replace('/srv/shop', '${ROOT:-/srv/default}');
    const loaded = parseConfig(text, 'deploy.yml', { HOST: 'secret-host.internal' });
    expect(loaded.config.hosts.web1?.hostname).toBe('secret-host.internal');
    expect(loaded.config.hosts.web1?.deploy_path).toBe('/srv/default');
    expect(loaded.secrets).toContain('secret-host.internal');
  });

  it('merge keys: one host’s settings shared with another by an anchor, its own keys winning', () => {
    const text = `application: shop
hosts:
  web1: &web
    hostname: web1.example.com
    user: deploy
    port: 2222
    deploy_path: /srv/shop
  web2:
    <<: *web
    hostname: web2.example.com
`;
    const { config } = parseConfig(text, 'deploy.yml', {});
    expect(config.hosts.web2).toMatchObject({
      hostname: 'web2.example.com',
      user: 'deploy',
      port: 2222,
      deploy_path: '/srv/shop',
    });
    expect(config.hosts.web2).not.toHaveProperty('<<');
  });

  it('a top-level `x-` key holds an anchor that is no host, and is set aside', () => {
    const text = `application: shop
x-web: &web
  user: deploy
  port: 2222
  deploy_path: /srv/shop
hosts:
  web1: { <<: *web, hostname: web1.example.com }
  web2: { <<: *web, hostname: web2.example.com }
`;
    const { config } = parseConfig(text, 'deploy.yml', {});
    expect(Object.keys(config.hosts)).toEqual(['web1', 'web2']);
    expect(config.hosts.web2).toMatchObject({ hostname: 'web2.example.com', user: 'deploy', port: 2222 });
    expect(config).not.toHaveProperty('x-web');
  });

  it('two merge keys in one host, both read as one `<<` with a list of them: not a duplicate key', () => {
    const text = `application: shop
hosts:
  web1: &one { hostname: web1.example.com, deploy_path: /srv/shop }
  web3: &three { hostname: web3.example.com, deploy_path: /srv/other, port: 2222 }
  web2:
    <<: *one
    <<: *three
    hostname: web2.example.com
`;
    const { config } = parseConfig(text, 'deploy.yml', {});
    expect(config.hosts.web2).toMatchObject({
      hostname: 'web2.example.com',
      deploy_path: '/srv/shop',
      port: 2222,
    });
  });

  it('a relative deploy_path on a local host, resolved against the config file', () => {
    const text = `application: a\nhosts:\n  here:\n    local: true\n    deploy_path: ../target\n`;
    expect(parseConfig(text, '/tmp/app/deploy.yml', {}).config.hosts.here?.deploy_path).toBe('/tmp/target');
  });
});

describe('parseConfig rejects, with file:line:column, key and advice', () => {
  // duplicates: a table of cases, one row per kind of mistake; the rows look alike by design.
  const cases: [string, string, string][] = [
    ['YAML syntax error', `application: a\nhosts:\n  web1: [\n`, 'deploy.yml:4:1: (yaml):'],
    [
      'unknown key with a suggestion',
      valid + 'keep_release: 3\n',
      'deploy.yml:7:1: keep_release: unknown key `keep_release` — did you mean `keep_releases`?',
    ],
    [
      'unknown host key',
      valid + '    hostnme: x\n',
      'deploy.yml:7:5: hosts.web1.hostnme: unknown key `hostnme` — did you mean `hostname`?',
    ],
    [
      'wrong type',
      valid + 'keep_releases: three\n',
      'deploy.yml:7:16: keep_releases: expected number, got string "three"',
    ],
    ['port out of range', valid + '    port: 70000\n', 'deploy.yml:7:11: hosts.web1.port: Too big'],
    [
      'relative deploy_path on a remote host',
      valid.replace('/srv/shop', 'srv/shop'),
      'deploy.yml:5:18: hosts.web1.deploy_path: must be an absolute path on a remote host',
    ],
    [
      'deploy_path is a system directory',
      valid.replace('/srv/shop', '/etc'),
      'deploy.yml:5:18: hosts.web1.deploy_path: must not be the system directory /etc',
    ],
    [
      'deploy_path not normalized',
      valid.replace('/srv/shop', '/srv/../shop'),
      'deploy.yml:5:18: hosts.web1.deploy_path: must be normalized',
    ],
    [
      'missing env var',
      valid.replace('web1.example.com', '${WEB_HOST}'),
      'deploy.yml:4:15: hosts.web1.hostname: environment variable WEB_HOST is not set',
    ],
    [
      'missing application',
      valid.replace('application: shop\n', ''),
      'deploy.yml:1:1: application: is required',
    ],
    [
      'shared dir escaping the release',
      valid + 'shared_dirs: [storage, ../etc]\n',
      'deploy.yml:7:24: shared_dirs.1: must be a relative path inside the release, without `..`',
    ],
    [
      'host named like a subcommand',
      valid.replace('web1:', 'rollback:'),
      'deploy.yml:3:3: hosts.rollback: is a reserved subcommand name',
    ],
    ['top level is a list', '- a\n- b\n', 'deploy.yml:1:1: (top level): must be a mapping'],
    [
      'duplicate key',
      valid + 'application: again\n',
      'deploy.yml:7:1: application: duplicate key `application` (also on line 1) — remove one of them',
    ],
    [
      'unknown option, with a guess',
      valid + 'writable_mode: acls\n',
      'deploy.yml:7:16: writable_mode: must be one of chmod, acl, chown, skip, got string "acls" — did you mean `acl`?',
    ],
    ['no hosts', 'application: a\nhosts: {}\n', 'deploy.yml:2:8: hosts: declare at least one host'],
    [
      'batch_size below one, where a percentage is allowed too',
      valid + 'batch_size: -1\n',
      'deploy.yml:7:13: batch_size: must be a number of hosts (1 or more) or a percentage of them (`25%`, from 1% to 100%), got number -1',
    ],
    [
      'batch_size a percentage out of range',
      valid + 'batch_size: 0%\n',
      'deploy.yml:7:13: batch_size: must be a number of hosts (1 or more) or a percentage of them (`25%`, from 1% to 100%), got string "0%"',
    ],
  ];

  it.each(cases)('%s', (_name, text, expected) => {
    const list = problems(text);
    expect(list.some((l) => l.startsWith(expected))).toBe(true);
  });

  it('reports every problem at once', () => {
    const text = `application: a\nkeep_release: 1\nhosts:\n  web1:\n    deploy_path: relative\n    port: "22"\n`;
    const list = problems(text);
    expect(list).toHaveLength(3);
    expect(list.map((l) => l.split(': ')[1])).toEqual([
      'keep_release',
      'hosts.web1.deploy_path',
      'hosts.web1.port',
    ]);
  });

  it('a merge key whose value is no mapping: at that key, with the other problems (it was `1:1 (yaml)` alone)', () => {
    const text = `application: a\nkeep_releases: many\nhosts:\n  web1:\n    <<: web0\n    deploy_path: /srv/a\n`;
    expect(problems(text)).toEqual([
      'deploy.yml:2:16: keep_releases: expected number, got string "many"',
      'deploy.yml:5:9: hosts.web1."<<": a merge key takes a mapping, or an alias of one (`<<: *web1` after `web1: &web1`), or a list of them — it gets the keys of each',
    ]);
  });

  it('a problem inside a merged mapping names the merge key as `<<`', () => {
    const text = `application: a\nhosts:\n  web1:\n    <<: { port: !foo 22 }\n    deploy_path: /srv/a\n`;
    expect(problems(text)).toContain(
      'deploy.yml:4:17: hosts.web1."<<".port: unknown tag `!foo` — remove the tag `!foo`',
    );
  });

  it('reports a hook naming a missing task and a pull without a store together with the other problems', () => {
    const text = [
      'application: a',
      'keep_releases: many',
      'fetch: pull',
      'hosts:',
      '  web1:',
      '    deploy_path: /srv/a',
      '    port: "22"',
      'hooks:',
      '  after:',
      '    upload: [{ task: migrate }]',
      '',
    ].join('\n');
    expect(problems(text).map((l) => l.split(': ').slice(0, 2).join(': '))).toEqual([
      'deploy.yml:2:16: keep_releases',
      'deploy.yml:3:8: fetch',
      'deploy.yml:7:11: hosts.web1.port',
      'deploy.yml:10:22: hooks.after.upload.0.task',
    ]);
  });

  it('says nothing more of a task reference whose parts are wrong in themselves', () => {
    const text = `application: a\nartifacts: 3\nfetch: pull\nhosts: {w: {deploy_path: /x}}\ntasks: 5\nhooks: {after: {upload: [{ task: "bad name" }, { task: q }]}}\n`;
    expect(problems(text).map((l) => l.split(': ')[1])).toEqual([
      'artifacts',
      'tasks',
      'hooks.after.upload.0.task',
    ]);
  });

  it('reports a duplicate key as one problem among the others, checking the value that is read', () => {
    const text = [
      'application: a',
      'keep_releases: 0',
      'hosts:',
      '  web1:',
      '    deploy_path: /srv/a',
      '    port: 22',
      '    port: ssh',
      '    port: 23',
      '    hostnme: x',
      '',
    ].join('\n');
    expect(problems(text)).toEqual([
      'deploy.yml:2:16: keep_releases: Too small: expected number to be >=1',
      'deploy.yml:7:5: hosts.web1.port: duplicate key `port` (also on line 6) — remove one of them; only the last one is read',
      'deploy.yml:8:5: hosts.web1.port: duplicate key `port` (also on line 6) — remove one of them; only the last one is read',
      'deploy.yml:9:5: hosts.web1.hostnme: unknown key `hostnme` — did you mean `hostname`?',
    ]);
    // The schema checks the last value, and points at it.
    expect(problems(text.replace('port: 23', 'port: "23"'))).toContain(
      'deploy.yml:8:11: hosts.web1.port: expected number, got string "23"',
    );
  });

  it('reports YAML errors that leave the document as written with the schema problems', () => {
    const text = 'application: "a\\qb"\nkeep_releases: 0\nhosts: {w: {deploy_path: /x}}\n---\nb: 1\n';
    expect(problems(text).map((l) => l.split(' — ')[0])).toEqual([
      'deploy.yml:1:16: (yaml): Invalid escape sequence \\q',
      'deploy.yml:2:16: keep_releases: Too small: expected number to be >=1',
      'deploy.yml:4:1: (yaml): a second YAML document starts here and is not read',
    ]);
  });

  it('reports a tag the loader does not read as a problem, at the tag, with the other problems', () => {
    const text = [
      'application: a',
      'keep_releases: 0',
      'source: !binary abc',
      'exclude: !!set {a}',
      'hosts:',
      '  web1:',
      '    deploy_path: /srv/a',
      '    port: !foo 22',
      '',
    ].join('\n');
    expect(problems(text)).toEqual([
      'deploy.yml:2:16: keep_releases: Too small: expected number to be >=1',
      'deploy.yml:3:9: source: unknown tag `!binary` — remove the tag `!binary`',
      'deploy.yml:4:10: exclude: unknown tag `!!set` — remove the tag `!!set`',
      'deploy.yml:4:16: exclude: expected array, got a mapping',
      'deploy.yml:8:11: hosts.web1.port: unknown tag `!foo` — remove the tag `!foo`',
      'deploy.yml:8:16: hosts.web1.port: expected number, got string "22"',
    ]);
    // A core tag on a value it does not fit is dropped the same way.
    expect(problems(valid + 'keep_releases: !!int many\n')[0]).toBe(
      'deploy.yml:7:16: keep_releases: the tag `!!int` does not fit this value — remove the tag `!!int`',
    );
  });

  it('reports a mapping or a list used as a key with the other problems, and prints nothing itself', () => {
    const KEY = 'a key must be a plain string: write it as a name, in quotes if it holds `{`, `[` or `:`';
    const text = [
      'application: a',
      'keep_releases: 0',
      'hosts:',
      '  [b]: x',
      '  ? {a: 1}',
      '  : 2',
      '  web1:',
      '    deploy_path: /srv/a',
      '',
    ].join('\n');
    // The library warns through process.emitWarning, which Node prints to stderr.
    const warn = vi.spyOn(process, 'emitWarning');
    try {
      expect(problems(text)).toEqual([
        'deploy.yml:2:16: keep_releases: Too small: expected number to be >=1',
        `deploy.yml:4:3: hosts: this key is a list — ${KEY}`,
        `deploy.yml:5:5: hosts: this key is a mapping — ${KEY}`,
      ]);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('reads no date, binary or set in a `%YAML 1.1` document either', () => {
    const v11 = (body: string) => `%YAML 1.1\n---\n${valid.replace('application: shop\n', '')}${body}`;
    expect(parseConfig(v11('application: 2001-12-14\n'), 'deploy.yml', {}).config.application).toBe(
      '2001-12-14',
    );
    expect(problems(v11('application: !!timestamp 2001-12-14\nsource: !!binary YWJj\n'))).toEqual([
      expect.stringMatching(/: application: unknown tag `!!timestamp` — remove the tag `!!timestamp`$/),
      expect.stringMatching(/: source: unknown tag `!!binary` — remove the tag `!!binary`$/),
    ]);
  });

  it('stops at a syntax error, whose document is a guess, without running the schema', () => {
    const text = 'application: a\nkeep_releases: 0\nhosts:\n  web1: [\n';
    expect(problems(text).every((l) => l.includes(': (yaml): '))).toBe(true);
  });

  it('says what a hook step, a shared path and confirm may be when the value is none of them', () => {
    const STEP =
      'must be a command (a string) or a mapping with either `run: <command>` or `task: <task name>` (and options such as `once`, `hosts`)';
    const MAPPINGS =
      'a mapping here has `run` (with local, once, hosts, labels) or `task` (with once, hosts, labels)';
    const text = [
      valid + 'confirm: "yes"',
      'shared_dirs: [5]',
      'shared_files: [~]',
      'hooks:',
      '  after:',
      '    symlink: [~, 3, { foo: 1 }, { run: 1 }, { task: 2 }, { run: a, task: b }]',
      '',
    ].join('\n');
    expect(problems(text)).toEqual([
      'deploy.yml:7:10: confirm: must be true, false or a list of selectors such as `[production]`, got string "yes"',
      'deploy.yml:8:15: shared_dirs.0: must be a path (a string) or a mapping with `path` (and `seed_shared`), got number 5',
      'deploy.yml:9:16: shared_files.0: must be a path (a string) or a mapping with `path` (and options such as `optional`), got null',
      `deploy.yml:12:15: hooks.after.symlink.0: ${STEP}, got null`,
      `deploy.yml:12:18: hooks.after.symlink.1: ${STEP}, got number 3`,
      `deploy.yml:12:23: hooks.after.symlink.2.foo: unknown key \`foo\` — ${MAPPINGS}`,
      // A mapping with `run:` or `task:` is held to that form, whose own problem is precise.
      'deploy.yml:12:40: hooks.after.symlink.3.run: expected string, got number 1',
      'deploy.yml:12:53: hooks.after.symlink.4.task: expected string, got number 2',
      `deploy.yml:12:58: hooks.after.symlink.5: ${STEP}`,
      'deploy.yml:12:74: hooks.after.symlink.5.task: no task `b` (tasks: none)',
    ]);
  });

  it('names a key no form of a hook step takes, with what a step mapping may hold', () => {
    const text = [
      valid + 'hooks:',
      '  after:',
      '    symlink:',
      '      - { foo: 1 }',
      '      - { rn: make }',
      '      - { foo: 1, once: 3 }',
      '      - { task: t, local: true }',
      'tasks: { t: [make] }',
      '',
    ].join('\n');
    expect(problems(text)).toEqual([
      'deploy.yml:10:11: hooks.after.symlink.0.foo: unknown key `foo` — a mapping here has `run` (with local, once, hosts, labels) or `task` (with once, hosts, labels)',
      'deploy.yml:11:11: hooks.after.symlink.1.rn: unknown key `rn` — did you mean `run`?',
      'deploy.yml:12:11: hooks.after.symlink.2.foo: unknown key `foo` — a mapping here has `run` (with local, once, hosts, labels) or `task` (with once, hosts, labels)',
      // Wrong in every form of a step, so reported whichever form was meant.
      'deploy.yml:12:25: hooks.after.symlink.2.once: expected boolean, got number 3',
      // A key of the other form, not a typo: "did you mean `local`?" said nothing.
      'deploy.yml:13:20: hooks.after.symlink.3.local: `local` does not go with the keys beside it — a mapping here has `run` (with local, once, hosts, labels) or `task` (with once, hosts, labels)',
    ]);
  });

  it('rejects alias bombs without expanding them', () => {
    // Small enough (10^4 leaves) to expand in a moment: without the alias limit this test fails on
    // the missing message instead of hanging the way a real bomb would.
    const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 3; i++)
      bomb.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    expect(problems(valid + bomb.join('\n') + '\n')).toEqual([
      'deploy.yml:1:1: (yaml): Excessive alias count indicates a resource exhaustion attack',
    ]);
  });
});
