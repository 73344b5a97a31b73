import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DeployError, ERRORS, type ErrorCode, type ErrorDetails } from '../../src/definitions/errors.js';
import { deployCommandFor, setInvokedConfigFile } from '../../src/definitions/invocation.js';
import { quote } from '../../src/remote/sh.js';
import { formatLocks } from '../../src/ui/releases-table.js';

/** A `-c` file a shell would split or end a quote on. */
const FILE = "ops dir/it's.yml";
const QUOTED = `'ops dir/it'\\''s.yml'`;

const failed = { host: 'web1', stage: 'upload', exitCode: 1, command: 'tar x', stderr: 'boom' };

/**
 * Details for every code, one per way its hint reads: a new code fails to compile until it has
 * some here, so its hint is checked too.
 */
const SAMPLES: { [C in ErrorCode]: ErrorDetails[C][] } = {
  ECONFIG: [{ file: FILE, count: 1, problems: [], list: [] }],
  ENOCONFIG: ['ENOENT', 'EISDIR', 'EACCES', 'EIO'].map((reason) => ({ file: FILE, reason })),
  EUSAGE: [{ reason: 'bad' }],
  ESELECTOR: [{ selector: 'x', choices: 'web1' }, { choices: 'web1' }],
  ECONFIRM: [
    { hosts: 'web1', confirming: 'web1' },
    { hosts: 'web1', declined: true },
  ],
  ETASK: [
    { host: 'web1', task: 'migrate', exitCode: 1, command: 'x', stderr: '' },
    { host: 'web1', task: 'migrate', command: 'x', stderr: '', noRelease: true },
  ],
  EQUOTE: [{ value: 'x' }],
  EINTERNAL: [{ reason: 'x' }],
  ELOCKED: [
    { host: 'web1', holder: 'bob', stale: true },
    { host: 'web1', holder: 'bob', stale: false },
  ],
  ESTAGE: [failed],
  ECURRENT: [{ host: 'web1', path: '/srv/current' }],
  EWRITABLE: [
    {
      host: 'web1',
      mode: 'acl',
      writableUser: 'www-data',
      recursive: false,
      deployUser: 'deploy',
      denied: [{ path: '/srv/shared/storage', owner: 'www-data', link: '/srv/releases/1/storage' }],
    },
    {
      host: 'web1',
      mode: 'chown',
      writableUser: 'www-data',
      recursive: false,
      deployUser: 'deploy',
      denied: [],
    },
  ],
  ESHAREDMISSING: [
    {
      host: 'web1',
      files: '.env',
      list: ['.env'],
      puts: ['.env.web1:.env', 'my key.web1:my key'],
      copy: ['scp .env.web1 web1:/srv/shared/.env'],
      copies: '.env.web1',
    },
  ],
  ERELEASECHANGED: [{ host: 'web1', changes: 'a', releasePath: '/srv/releases/1' }],
  ETARGETCHANGED: [{ host: 'web1', release: '20260101000000', changes: 'a' }],
  ESOURCE: [
    { path: 'a', reason: 'x' },
    { path: 'a', reason: 'x', changed: true },
  ],
  EDIRTY: [{ reason: 'x' }, { reason: 'x', notGit: true }],
  EREVISION: [{ revision: 'v1', reason: 'x' }],
  EARTIFACT: [{ id: 'abc', reason: 'x' }],
  EOBJECT: [{ path: 'a', sha256: 'ab'.repeat(32), store: '.deploy-artifacts' }],
  EFETCH: [{ host: 'web1', reason: 'x' }],
  ESTORE: [{ store: 's3://b', action: 'read', reason: 'x' }],
  ERECIPE: [{ reason: 'x' }],
  ECONNECT: [{ host: 'web1', address: 'h:22', reason: 'x' }],
  ECONNLOST: [{ host: 'web1' }, { host: 'web1', switchMaybe: true }, { host: 'web1', switched: true }],
  EAUTH: [{ host: 'web1', user: 'u', address: 'h:22', tried: 'agent' }],
  ERUN: [{ host: 'web1', exitCode: 1, stdout: '', stderr: '' }],
  EHOSTKEY: (['unknown', 'changed', 'revoked'] as const).map((reason) => ({
    host: 'web1',
    hostname: 'h',
    port: 22,
    keyType: 'ssh-ed25519',
    fingerprint: 'SHA256:x',
    reason,
    entryName: 'h',
  })),
  EHEALTH: [{ host: 'web1', reason: 'x' }],
  EAFTERSWITCH: [failed, { host: 'web1', stage: 'symlink', reason: 'x' }],
  ESWITCHEDBACK: [{ host: 'web1', reason: 'x' }],
  EREVERT: [
    { host: 'web1', release: '2', previous: '20260101000000', reason: 'x' },
    { host: 'web1', release: '2', reason: 'x' },
  ],
  ENOROLLBACK: [
    { host: 'web1', reason: 'x' },
    { host: 'web1', reason: 'x', candidates: '1, 2' },
  ],
  EINTERRUPTED: [
    { signal: 'SIGINT' },
    { signal: 'SIGINT', task: 't' },
    { signal: 'SIGTERM', switched: true },
    { signal: 'SIGINT', switched: true, live: ['web1'], notLive: ['web2'] },
    { signal: 'SIGINT', switched: true, rollback: { selector: ['web1'] } },
    { signal: 'SIGINT', rollback: { selector: [] } },
  ],
  EKNOWNHOSTS: [{ file: 'kh', reason: 'x' }],
  EKEYFILE: [{ host: 'web1', file: 'id', reason: 'x' }],
};

const hintOf = <C extends ErrorCode>(code: C, d: ErrorDetails[C], file?: string): string =>
  ERRORS[code].hint(d, deployCommandFor(file));

/** Every `deploy …` command a text prints: in backticks, or alone on an indented line. */
const deployCommands = (text: string): string[] => [
  ...[...text.matchAll(/`(deploy(?: [^`]*)?)`/g)].map((m) => m[1]!),
  ...[...text.matchAll(/^ +(deploy(?: .*)?)$/gm)].map((m) => m[1]!),
];

/** The words /bin/sh makes of a command, as a user's paste would run it. */
const shellWords = (command: string): string[] =>
  execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${command}`], { encoding: 'utf8' })
    .split('\0')
    .slice(0, -1);

const cases = (Object.keys(SAMPLES) as ErrorCode[]).flatMap((code) =>
  (SAMPLES[code] as ErrorDetails[ErrorCode][]).map((d, i) => [`${code} #${i + 1}`, code, d] as const),
);

describe('every `deploy …` command a hint prints reads the run’s -c file', () => {
  it('the codes with such a command are the ones expected (a sample per branch found them)', () => {
    const withCommand = new Set(
      cases.filter(([, c, d]) => deployCommands(hintOf(c, d, FILE)).length).map(([, c]) => c),
    );
    expect([...withCommand].sort()).toEqual(
      [
        'EARTIFACT',
        'ECONNLOST',
        'ELOCKED',
        'ENOCONFIG',
        'EINTERRUPTED',
        'ENOROLLBACK',
        'EOBJECT',
        'EREVERT',
        'ERUN',
        'ESHAREDMISSING',
        'ETARGETCHANGED',
        'ETASK',
        'EUSAGE',
        'EWRITABLE',
      ].sort(),
    );
  });

  it.each(cases)('%s', (_name, code, d) => {
    const hint = hintOf(code, d, FILE);
    for (const command of deployCommands(hint)) {
      expect(command, hint).toMatch(
        new RegExp(`^deploy -c ${QUOTED.replace(/[\\'^$.*+?()[\]{}|]/g, '\\$&')}( |$)`),
      );
      // What a paste runs: `-c` and the file as one word, whatever the file's name holds.
      expect(shellWords(command).slice(0, 3), command).toEqual(['deploy', '-c', FILE]);
    }
    // Without -c (deploy.yml), the same text without the flag: today's hints, unchanged.
    expect(hintOf(code, d)).toBe(hint.split(` -c ${QUOTED}`).join(''));
    expect(hintOf(code, d)).not.toContain('deploy -c');
  });
});

describe('the ssh commands a hint prints take each path as one word', () => {
  const sshCommands = (text: string): string[] =>
    [...text.matchAll(/`(ssh-key(?:gen|scan) [^`]*)`/g)]
      .map((m) => m[1]!.split(' >> ')[0]!)
      // The fingerprint's command runs on the server, on its own files.
      .filter((c) => !c.startsWith('ssh-keygen -lf'));
  const spaced = "/home/ops/My Keys/it's";

  it('ssh-keygen -f for a missing identity_file', () => {
    const hint = new DeployError('EKEYFILE', { host: 'web1', file: spaced, reason: 'does not exist' }).hint!;
    const [command] = sshCommands(hint);
    expect(shellWords(command!)).toEqual(['ssh-keygen', '-t', 'ed25519', '-f', spaced]);
  });

  it('ssh-keygen -R and ssh-keyscan for a changed host key, and the file the keyscan appends to', () => {
    const d = { ...SAMPLES.EHOSTKEY[1]!, knownHostsFile: spaced, entryName: '[h]:2222' };
    const hint = new DeployError('EHOSTKEY', d).hint!;
    const [remove, scan] = sshCommands(hint);
    expect(shellWords(remove!)).toEqual(['ssh-keygen', '-R', '[h]:2222', '-f', spaced]);
    expect(shellWords(scan!)).toEqual(['ssh-keyscan', '-p', '22', 'h']);
    expect(shellWords(hint.split(' >> ')[1]!.split('`')[0]!)).toEqual([spaced]);
  });
});

describe('the run’s -c file reaches what is printed without being passed', () => {
  afterEach(() => setInvokedConfigFile());

  it('a DeployError made anywhere carries the file the CLI was given', () => {
    expect(new DeployError('ERUN', SAMPLES.ERUN[0]!).hint).toContain('`deploy ssh web1`');
    setInvokedConfigFile(FILE);
    expect(new DeployError('ERUN', SAMPLES.ERUN[0]!).hint).toContain(`\`deploy -c ${QUOTED} ssh web1\``);
    setInvokedConfigFile('deploy.yml');
    expect(new DeployError('ERUN', SAMPLES.ERUN[0]!).hint).toContain('`deploy ssh web1`');
  });

  it('lock status’s stale-lock advice', () => {
    setInvokedConfigFile(FILE);
    const text = formatLocks([{ host: 'web1', locked: true, stale: true, description: 'me' }], 'held');
    expect(text).toContain(`Run \`deploy -c ${QUOTED} unlock web1\`.`);
  });

  it('values are quoted as the remote commands are', () => {
    const deploy = deployCommandFor(FILE);
    expect(deploy`rollback ${'web 1'} --to ${'-x'}`).toBe(
      `deploy -c ${QUOTED} rollback ${quote('web 1')} --to '-x'`,
    );
    expect(deploy``).toBe(`deploy -c ${QUOTED}`);
    // The run's -o overrides follow, quoted: the same configuration as the run that printed it.
    expect(
      deployCommandFor('deploy.yml', ['hosts.web1.port=2222', "application=it's"])`unlock ${'web1'}`,
    ).toBe(`deploy -o hosts.web1.port=2222 -o ${quote("application=it's")} unlock web1`);
    expect(deployCommandFor()`${'web1'}`).toBe('deploy web1');
  });

  it('leaves out an -o that sets a notification URL: the URL is a password, and the command works without it', () => {
    const slack = 'notify.slack=https://hooks.slack.com/services/T0/B0/SECRETTOKEN';
    const deploy = deployCommandFor('deploy.yml', [
      slack,
      'notify.webhook=https://example.com/hook?token=SECRETTOKEN',
      ' notify.discord =https://discord.com/api/webhooks/1/SECRETTOKEN',
      "notify={slack: 'https://hooks.slack.com/services/T0/B0/SECRETTOKEN'}",
      'hosts.web1.port=2222',
      'notify.on=[start]',
    ]);
    expect(deploy`unlock ${'web1'}`).toBe(
      `deploy -o hosts.web1.port=2222 -o ${quote('notify.on=[start]')} unlock web1`,
    );
  });
});
