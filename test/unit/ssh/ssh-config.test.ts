import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSshConfig, resolveSshConfig, type SshConfigValues } from '../../../src/ssh/ssh-config.js';
import { withoutSsh, tempDir } from './keys.js';
import { describeNeeding } from '../../support/requirements.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const HOME = '/home/tester';
const resolve = (alias: string, text: string, context = {}) =>
  resolveSshConfig(alias, text, { homedir: HOME, localUser: 'me', ...context });

describe('resolveSshConfig', () => {
  it('takes the first value obtained for each keyword, so specific blocks go first', () => {
    const text = `
Host web
  HostName web.internal
  User deploy
Host *
  User nobody
  Port 2222
  HostName ignored
`;
    expect(resolve('web', text)).toMatchObject({ hostName: 'web.internal', user: 'deploy', port: 2222 });
    expect(resolve('db', text)).toMatchObject({ hostName: 'ignored', user: 'nobody', port: 2222 });
  });

  it('lets settings before any Host block win over everything after them', () => {
    const text = `User early\nHost web\n  User late\n`;
    expect(resolve('web', text).user).toBe('early');
  });

  it('accumulates IdentityFile from every matching block, in order, ~ and tokens expanded', () => {
    const text = `
Host web
  HostName web.example.com
  User deploy
  Port 2200
  IdentityFile ~/.ssh/%h_%p_%r
  IdentityFile "~/keys/with space"
Host *
  IdentityFile /keys/%n-%u-%%
  IdentityFile ~/.ssh/%h_%p_%r
`;
    expect(resolve('web', text).identityFiles).toEqual([
      `${HOME}/.ssh/web.example.com_2200_deploy`,
      `${HOME}/keys/with space`,
      '/keys/web-me-%',
    ]);
  });

  it('expands %r/%h/%p with the values the caller overrides, like ssh -l/-p', () => {
    const text = `Host web\n  IdentityFile ~/.ssh/%r@%h:%p\n  User deploy\n`;
    expect(resolve('web', text, { user: 'ci', hostname: '10.0.0.9', port: 2022 }).identityFiles).toEqual([
      `${HOME}/.ssh/ci@10.0.0.9:2022`,
    ]);
  });

  it('matches Host patterns with wildcards, ? as exactly one character, and negation', () => {
    const text = `
Host !db* *.example.com
  User app
Host a?c
  Port 2201
Host *
  Port 22
`;
    expect(resolve('web.example.com', text).user).toBe('app');
    expect(resolve('db.example.com', text).user).toBeUndefined();
    expect(resolve('abc', text).port).toBe(2201);
    expect(resolve('ac', text).port).toBe(22);
  });

  it('matches Host case-sensitively and does not split patterns on commas', () => {
    const text = `Host Web\n  User upper\nHost web,db\n  User comma\nHost *\n  User any\n`;
    expect(resolve('Web', text).user).toBe('upper');
    expect(resolve('web', text).user).toBe('any');
    expect(resolve('db', text).user).toBe('any');
  });

  it('expands %h in HostName', () => {
    expect(resolve('web', 'Host *\n  HostName %h.example.com\n').hostName).toBe('web.example.com');
  });

  it('evaluates Match host/originalhost/user/localuser/all, negated criteria, and skips exec', () => {
    const text = `
Host web
  HostName web.prod.example.com
Match host *.prod.example.com !user root
  Port 2001
Match originalhost web user deploy
  User ignored-already-set
Match exec "true"
  ServerAliveInterval 99
Match localuser me
  ConnectTimeout 9
Match all
  ServerAliveInterval 5
`;
    expect(resolve('web', text)).toMatchObject({ port: 2001, connectTimeout: 9, serverAliveInterval: 5 });
    expect(resolve('web', text, { user: 'root' }).port).toBeUndefined();
    expect(resolve('db', text).port).toBeUndefined();
  });

  it('reads the remaining keywords and their special values', () => {
    const text = `
Host a
  IdentitiesOnly yes
  ProxyJump jump1,deploy@jump2:2222
  StrictHostKeyChecking accept-new
  UserKnownHostsFile ~/.ssh/kh_%h /etc/kh
  GlobalKnownHostsFile none
  ConnectTimeout 7
  ServerAliveInterval 30
  ForwardAgent yes
  IdentityAgent ~/agent.sock
Host b
  ProxyJump none
  StrictHostKeyChecking no
  UserKnownHostsFile none
  IdentityAgent SSH_AUTH_SOCK
  ForwardAgent no
`;
    expect(resolve('a', text)).toEqual<SshConfigValues>({
      hostName: undefined,
      user: undefined,
      port: undefined,
      identityFiles: [],
      identitiesOnly: true,
      identityAgent: `${HOME}/agent.sock`,
      proxyJump: ['jump1', 'deploy@jump2:2222'],
      strictHostKeyChecking: 'accept-new',
      userKnownHostsFiles: [`${HOME}/.ssh/kh_a`, '/etc/kh'],
      globalKnownHostsFiles: [],
      connectTimeout: 7,
      serverAliveInterval: 30,
      forwardAgent: true,
    });
    expect(resolve('b', text)).toMatchObject({
      proxyJump: undefined,
      strictHostKeyChecking: 'no',
      userKnownHostsFiles: [],
      identityAgent: 'SSH_AUTH_SOCK',
      forwardAgent: false,
    });
  });

  it('treats keywords case-insensitively and accepts key=value', () => {
    expect(resolve('w', 'host w\n  hOsTnAmE=x.example\n  PORT 2\n')).toMatchObject({
      hostName: 'x.example',
      port: 2,
    });
  });

  it('returns nothing for an empty config', () => {
    expect(resolve('web', '')).toEqual({ identityFiles: [] });
  });
});

describe('loadSshConfig', () => {
  it('reads the file, and a missing one as empty', () => {
    const file = join(tmp.dir, 'config');
    writeFileSync(file, 'Host x\n  User y\n');
    expect(loadSshConfig(file)).toContain('User y');
    expect(loadSshConfig(join(tmp.dir, 'nope'))).toBe('');
  });
});

/** The same fixture read by OpenSSH's own `ssh -G` (parses and prints; never connects). */
describeNeeding(withoutSsh, 'agrees with ssh -G', () => {
  const fixture = `
ConnectTimeout 11
Host !bastion* *.corp.example
  User corp
  ProxyJump bastion.corp.example
  IdentityFile /keys/corp
Host web? web?.corp.example
  HostName %h.internal
  Port 2200
  IdentityFile /keys/web
  IdentitiesOnly yes
Match host *.internal !user nobody
  ServerAliveInterval 15
  StrictHostKeyChecking accept-new
Match originalhost db*
  StrictHostKeyChecking no
  ForwardAgent yes
Host *
  IdentityFile /keys/default
  UserKnownHostsFile ~/.ssh/kh_%h /tmp/kh2
  Port 22
`;
  const aliases = [
    'web1',
    'web12',
    'web2.corp.example',
    'bastion.corp.example',
    'db.corp.example',
    'dbx',
    'other',
  ];
  const { homedir, username } = userInfo();
  const file = join(tmp.dir, 'fixture_config');

  it.each(aliases)('%s', (alias) => {
    writeFileSync(file, fixture);
    const out = execFileSync('ssh', ['-G', '-F', file, alias], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const ssh = new Map<string, string[]>();
    for (const l of out.split('\n')) {
      const [k = '', ...rest] = l.split(' ');
      ssh.set(k, [...(ssh.get(k) ?? []), rest.join(' ')]);
    }
    const ours = resolveSshConfig(alias, fixture, { homedir, localUser: username });
    const strict = { yes: 'true', no: 'false', off: 'false', ask: 'ask', 'accept-new': 'accept-new' };
    expect({
      hostname: (ours.hostName ?? alias).toLowerCase(),
      user: ours.user ?? username,
      port: String(ours.port ?? 22),
      identityfile: ours.identityFiles,
      identitiesonly: ours.identitiesOnly ? 'yes' : 'no',
      proxyjump: ours.proxyJump?.join(','),
      stricthostkeychecking: strict[ours.strictHostKeyChecking ?? 'ask'],
      userknownhostsfile: ours.userKnownHostsFiles?.join(' '),
      connecttimeout: String(ours.connectTimeout ?? 'none'),
      serveraliveinterval: String(ours.serverAliveInterval ?? 0),
      forwardagent: ours.forwardAgent ? 'yes' : 'no',
    }).toEqual({
      hostname: ssh.get('hostname')?.[0],
      user: ssh.get('user')?.[0],
      port: ssh.get('port')?.[0],
      identityfile: ssh.get('identityfile'),
      identitiesonly: ssh.get('identitiesonly')?.[0],
      proxyjump: ssh.get('proxyjump')?.[0],
      stricthostkeychecking: ssh.get('stricthostkeychecking')?.[0],
      userknownhostsfile: ssh.get('userknownhostsfile')?.[0],
      connecttimeout: ssh.get('connecttimeout')?.[0],
      serveraliveinterval: ssh.get('serveraliveinterval')?.[0],
      forwardagent: ssh.get('forwardagent')?.[0],
    });
  });
});
