import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployError } from '../../../src/definitions/errors.js';
import {
  hostKeyModeOf,
  normalizePrivateKey,
  resolveConnectOptions,
  type ConnectContext,
  type HostSshSettings,
} from '../../../src/ssh/connect-options.js';
import { tempDir } from './keys.js';

const tmp = tempDir();
/** A home with a few default keys present (content is irrelevant: nothing parses them here). */
let home: string;
/** A home with no keys at all. */
let bare: string;

beforeAll(() => {
  home = join(tmp.dir, 'home');
  bare = join(tmp.dir, 'bare');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  mkdirSync(join(bare, '.ssh'), { recursive: true });
  for (const f of ['id_ed25519', 'id_rsa', 'id_ecdsa_sk', 'deploy_key', 'agent_only.pub']) {
    writeFileSync(join(home, '.ssh', f), 'key\n');
  }
  mkdirSync(join(home, '.ssh', 'id_ecdsa'));
});
afterAll(() => tmp.cleanup());

const ctx = (over: Partial<ConnectContext> = {}): ConnectContext => ({
  env: {},
  homedir: home,
  localUser: 'localme',
  ...over,
});
const resolve = (host: HostSshSettings = {}, over: Partial<ConnectContext> = {}, alias = 'web') =>
  resolveConnectOptions(alias, host, ctx(over));

const SSH_CONFIG = `
Host web
  HostName web.from-config
  User config-user
  Port 2200
  IdentityFile ~/.ssh/deploy_key
  IdentityFile ~/.ssh/missing_key
  StrictHostKeyChecking accept-new
  UserKnownHostsFile ~/.ssh/project_known_hosts
  ProxyJump bastion1,bastion2
  ConnectTimeout 5
  ServerAliveInterval 30
  ForwardAgent yes
Host *
  User fallback
`;

describe('resolveConnectOptions', () => {
  it('uses defaults when nothing is configured', () => {
    const o = resolve({}, { homedir: bare });
    expect(o).toEqual({
      alias: 'web',
      host: 'web',
      port: 22,
      username: 'localme',
      agentForward: false,
      readyTimeout: 10_000,
      keepaliveInterval: 15_000,
      hostKeyMode: 'strict',
      knownHostsFiles: [
        join(bare, '.ssh', 'known_hosts'),
        join(bare, '.ssh', 'known_hosts2'),
        '/etc/ssh/ssh_known_hosts',
        '/etc/ssh/ssh_known_hosts2',
      ],
      userKnownHostsFile: join(bare, '.ssh', 'known_hosts'),
      identityFiles: [],
      triedKeys: [],
      warnings: [],
    });
  });

  it('takes ssh config values over defaults', () => {
    const o = resolve({}, { sshConfigText: SSH_CONFIG, env: { SSH_AUTH_SOCK: '/run/agent.sock' } });
    expect(o).toMatchObject({
      host: 'web.from-config',
      port: 2200,
      username: 'config-user',
      privateKeyPath: join(home, '.ssh', 'deploy_key'),
      identityFiles: [join(home, '.ssh', 'deploy_key')],
      agent: '/run/agent.sock',
      agentForward: true,
      readyTimeout: 5_000,
      keepaliveInterval: 30_000,
      hostKeyMode: 'accept-new',
      knownHostsFiles: [
        join(home, '.ssh', 'project_known_hosts'),
        '/etc/ssh/ssh_known_hosts',
        '/etc/ssh/ssh_known_hosts2',
      ],
      userKnownHostsFile: join(home, '.ssh', 'project_known_hosts'),
      proxyJump: ['bastion1', 'bastion2'],
      triedKeys: ['~/.ssh/deploy_key', 'ssh-agent'],
    });
  });

  // duplicates: the expected options of the test above with other values: each says what wins.
  it('takes deploy.yml values over ssh config', () => {
    const o = resolve(
      {
        hostname: '10.0.0.5',
        user: 'yml-user',
        port: 2022,
        identity_file: '~/.ssh/id_ed25519',
        host_key_checking: 'off',
        known_hosts_file: '~/project/known_hosts',
        proxy_jump: ['jump'],
        forward_agent: false,
        connect_timeout: 3,
      },
      { sshConfigText: SSH_CONFIG, env: { SSH_AUTH_SOCK: '/run/agent.sock' } },
    );
    expect(o).toMatchObject({
      host: '10.0.0.5',
      port: 2022,
      username: 'yml-user',
      privateKeyPath: join(home, '.ssh', 'id_ed25519'),
      identityFiles: [join(home, '.ssh', 'id_ed25519')],
      agentForward: false,
      readyTimeout: 3_000,
      hostKeyMode: 'off',
      knownHostsFiles: [
        join(home, 'project', 'known_hosts'),
        '/etc/ssh/ssh_known_hosts',
        '/etc/ssh/ssh_known_hosts2',
      ],
      proxyJump: ['jump'],
    });
  });

  it("uses ssh config's `Host *` user when the alias has none", () => {
    expect(resolve({}, { sshConfigText: SSH_CONFIG }, 'db').username).toBe('fallback');
  });

  it("tries OpenSSH's default identity files in its order, only those that exist, no _sk keys", () => {
    const o = resolve();
    expect(o.identityFiles).toEqual([join(home, '.ssh', 'id_rsa'), join(home, '.ssh', 'id_ed25519')]);
    expect(o.privateKeyPath).toBe(join(home, '.ssh', 'id_rsa'));
    expect(o.triedKeys).toEqual(['~/.ssh/id_rsa']);
  });

  it('does not fall back to default keys when ssh config names identity files', () => {
    const o = resolve(
      {},
      { sshConfigText: 'Host *\n  IdentityFile ~/.ssh/nope\n  IdentityFile ~/.ssh/agent_only.pub\n' },
    );
    expect(o.identityFiles).toEqual([]);
    expect(o.privateKeyPath).toBeUndefined();
  });

  it('refuses an identity_file from deploy.yml that does not exist', () => {
    let err: unknown;
    try {
      resolve({ identity_file: '~/.ssh/typo' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DeployError);
    expect((err as DeployError).code).toBe('EKEYFILE');
    expect((err as DeployError).message).toBe(
      `web: identity_file ${join(home, '.ssh', 'typo')} does not exist or is not a file`,
    );
  });

  it('uses SSH_PRIVATE_KEY and SSH_KEY_PASSPHRASE from the environment instead of key files', () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----';
    const o = resolve(
      { identity_file: '~/.ssh/not-in-ci' },
      { env: { SSH_PRIVATE_KEY: key, SSH_KEY_PASSPHRASE: 'pw' } },
    );
    expect(o.privateKey).toBe(`${key}\n`);
    expect(o.privateKeyPath).toBeUndefined();
    expect(o.passphrase).toBe('pw');
    expect(o.triedKeys).toEqual(['SSH_PRIVATE_KEY']);
  });

  it('drops the agent under IdentitiesOnly when a key is at hand, keeps it otherwise', () => {
    const env = { SSH_AUTH_SOCK: '/run/agent.sock' };
    const only = 'Host *\n  IdentitiesOnly yes\n';
    expect(resolve({}, { env, sshConfigText: only }).agent).toBeUndefined();
    expect(resolve({}, { env, sshConfigText: only, homedir: bare })).toMatchObject({
      agent: '/run/agent.sock',
      triedKeys: ['ssh-agent'],
    });
  });

  it('honours IdentityAgent', () => {
    const env = { SSH_AUTH_SOCK: '/run/agent.sock' };
    expect(resolve({}, { env, sshConfigText: 'Host *\n  IdentityAgent none\n' }).agent).toBeUndefined();
    expect(resolve({}, { env, sshConfigText: 'Host *\n  IdentityAgent ~/a.sock\n' }).agent).toBe(
      join(home, 'a.sock'),
    );
    expect(resolve({}, { env, sshConfigText: 'Host *\n  IdentityAgent SSH_AUTH_SOCK\n' }).agent).toBe(
      '/run/agent.sock',
    );
  });

  it('does not forward an agent it does not have', () => {
    expect(resolve({ forward_agent: true }).agentForward).toBe(false);
  });

  it('has no user known_hosts file to write under UserKnownHostsFile none', () => {
    const o = resolve({}, { sshConfigText: 'Host *\n  UserKnownHostsFile none\n' });
    expect(o.userKnownHostsFile).toBeUndefined();
    expect(o.knownHostsFiles).toEqual(['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
  });

  it('splits a proxy_jump string and treats none as no jump', () => {
    expect(resolve({ proxy_jump: 'a, b' }).proxyJump).toEqual(['a', 'b']);
    expect(resolve({ proxy_jump: 'none' }, { sshConfigText: SSH_CONFIG }).proxyJump).toBeUndefined();
  });

  it('lets ServerAliveInterval 0 turn keepalives off', () => {
    expect(resolve({}, { sshConfigText: 'Host *\n  ServerAliveInterval 0\n' }).keepaliveInterval).toBe(0);
  });
});

describe('hostKeyModeOf', () => {
  it.each([
    ['yes', 'strict'],
    ['ask', 'strict'],
    ['accept-new', 'accept-new'],
    ['no', 'off'],
    ['off', 'off'],
    ['strict', 'strict'],
    ['YES', 'strict'],
    [undefined, 'strict'],
    ['nonsense', 'strict'],
  ])('%s -> %s', (value, mode) => {
    expect(hostKeyModeOf(value)).toBe(mode);
  });
});

describe('settings a person must hear about on every run', () => {
  it('host key checking off, from deploy.yml or from the ssh config, says where it comes from', () => {
    expect(resolve({ host_key_checking: 'off' }).warnings).toEqual([
      expect.stringMatching(/^host key checking is off for web \(host_key_checking: off in deploy\.yml\): /),
    ]);
    const fromConfig = resolve({}, { sshConfigText: 'Host web\n  StrictHostKeyChecking no\n' });
    expect(fromConfig.warnings).toEqual([
      expect.stringMatching(
        /^host key checking is off for web \(StrictHostKeyChecking no in the ssh config\)/,
      ),
    ]);
    expect(resolve({ host_key_checking: 'accept-new' }).warnings).toEqual([]);
  });

  it('a ProxyCommand is said to be ignored, unless a jump host is followed instead', () => {
    const text = 'Host web\n  ProxyCommand ssh -W %h:%p bastion\n';
    expect(resolve({}, { sshConfigText: text }).warnings).toEqual([
      expect.stringMatching(
        /^ProxyCommand in the ssh config is ignored for web: shipshape connects to web directly/,
      ),
    ]);
    expect(resolve({ proxy_jump: 'bastion' }, { sshConfigText: text }).warnings).toEqual([]);
    expect(resolve({}, { sshConfigText: 'Host web\n  ProxyCommand none\n' }).warnings).toEqual([]);
  });
});

describe('normalizePrivateKey', () => {
  const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n';
  it.each([
    ['as is', key],
    ['without the final newline', key.trimEnd()],
    ['with CRLF', key.replace(/\n/g, '\r\n')],
    ['with literal \\n', key.trimEnd().replace(/\n/g, '\\n')],
    ['base64-encoded', Buffer.from(key).toString('base64')],
    ['surrounded by blanks', `\n  ${key}  \n`],
  ])('repairs a key %s', (_, raw) => {
    expect(normalizePrivateKey(raw)).toBe(key);
  });

  it('ignores an empty variable', () => {
    expect(normalizePrivateKey('')).toBeUndefined();
    expect(normalizePrivateKey('  \n')).toBeUndefined();
    expect(normalizePrivateKey(undefined)).toBeUndefined();
  });
});
