import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { configMask } from '../../../src/config/secrets.js';
import { parseOverrides } from '../../../src/config/overrides.js';
import { suggest } from '../../../src/config/suggest.js';
import { DeployError } from '../../../src/definitions/errors.js';
import { configProblems } from '../../support/errors.js';

const FILE = `application: shop
keep_releases: 5
hosts:
  web1:
    deploy_path: /srv/shop
`;

const load = (...specs: string[]) => parseConfig(FILE, 'deploy.yml', {}, parseOverrides(specs));

const problems = (text: string, ...specs: string[]): string[] =>
  configProblems(() => parseConfig(text, 'deploy.yml', {}, parseOverrides(specs)));

describe('-o key=value', () => {
  it('a notification URL set by -o is masked, as one from a ${VAR} of deploy.yml is', () => {
    const slack = 'https://hooks.slack.com/services/T0/B0/SLACKTOKEN';
    const discord = 'https://discord.com/api/webhooks/1/DISCORDTOKEN';
    const loaded = load(`notify.slack=${slack}`, `notify={discord: '${discord}', on: [success]}`);
    const mask = configMask(loaded, {});
    expect(mask(`posting to ${slack} and ${discord}`)).toBe('posting to *** and ***');
    // Not the rest of notify: `success` stays readable.
    expect(mask('on success')).toBe('on success');
  });

  it('sets values at dotted keys, typed as YAML reads them; later ones win; missing mappings are created', () => {
    const { config } = load(
      'keep_releases=1',
      'hosts.web1.port=2222',
      'hosts.web1.labels.role=web',
      'respect_gitignore=false',
      'exclude=[a, "b c"]',
      'application=shop: staging',
      'keep_releases=3',
    );
    expect(config.keep_releases).toBe(3);
    expect(config.hosts.web1).toMatchObject({ port: 2222, labels: { role: 'web' } });
    expect(config.respect_gitignore).toBe(false);
    expect(config.exclude).toEqual(['a', 'b c']);
    expect(config.application).toBe('shop: staging');
  });

  it('is checked like the file; a problem names the -o instead of a line; every problem at once', () => {
    expect(
      problems(`${FILE}keep_release: 2\n`, 'keep_releases=0', 'hosts.web1.hostnme=x', 'hosts.web2.port=22'),
    ).toEqual([
      '-o keep_releases: keep_releases: Too small: expected number to be >=1',
      '-o hosts.web1.hostnme: hosts.web1.hostnme: unknown key `hostnme` — did you mean `hostname`?',
      '-o hosts.web2.port: hosts.web2.deploy_path: is required (string)',
      // The file's own problem keeps its line and column.
      'deploy.yml:6:1: keep_release: unknown key `keep_release` — did you mean `keep_releases`?',
    ]);
  });

  it('a malformed override is a usage error naming it, before anything is read', () => {
    for (const bad of ['keep_releases', '=1', 'hosts..port=1']) {
      let error: DeployError | undefined;
      try {
        parseOverrides([bad]);
      } catch (e) {
        error = e as DeployError;
      }
      expect(error?.code, bad).toBe('EUSAGE');
      expect(error?.message).toContain(`-o ${bad}: expected key=value`);
    }
  });

  it('a tag or a mapping as a key inside a list or mapping is a usage error saying so, and nothing else prints', () => {
    // The YAML library warns through process.emitWarning, which Node prints to stderr.
    const warn = vi.spyOn(process, 'emitWarning');
    try {
      expect(() => parseOverrides(['exclude=[!foo a]', 'exclude=[{a: 1}: x]', 'keep_releases=2'])).toThrow(
        [
          '-o exclude=[!foo a]: unknown tag `!foo` — remove the tag `!foo`',
          '-o exclude=[{a: 1}: x]: this key is a mapping — a key must be a plain string: write it as a name, in quotes if it holds `{`, `[` or `:`',
        ].join('\n'),
      );
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('text is the text as typed: nothing of it is read as a YAML comment, tag, anchor or block', () => {
    const values = (...texts: string[]) =>
      parseOverrides(texts.map((t) => `application=${t}`)).map((o) => o.value);
    expect(values('My App #2', '!admin', '!foo 22', '&a x', '>-', '*x', ' padded ')).toEqual([
      'My App #2',
      '!admin',
      '!foo 22',
      '&a x',
      '>-',
      '*x',
      'padded',
    ]);
    // A number, a boolean or null stays one; a quoted scalar is YAML's string.
    expect(values('3', 'false', '"3"', "'a #b'")).toEqual([3, false, '3', 'a #b']);
    expect(values('null', '~', ' NULL ')).toEqual([null, null, null]);
    // What YAML reads as nothing but was not typed as null: a comment alone, `...`, blanks.
    expect(values('#general', '# 2', '...', ' ', '')).toEqual(['#general', '# 2', '...', '', '']);
  });
});

describe('did you mean', () => {
  it('prefers a longer or shorter name over one a letter away: host is hostname, not port', () => {
    const hostKeys = ['hostname', 'host_key_checking', 'port', 'user', 'deploy_path', 'stage'];
    expect(suggest('host', hostKeys)).toBe('hostname');
    expect(suggest('stages', hostKeys)).toBe('stage');
    expect(suggest('hostnme', hostKeys)).toBe('hostname');
    expect(suggest('prot', hostKeys)).toBe('port');
    expect(suggest('keep', ['keep_releases', 'exclude'])).toBe('keep_releases');
  });
});
