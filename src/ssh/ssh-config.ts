import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import SSHConfig, { type Line } from 'ssh-config';
import { matchPattern, matchPatternList } from './patterns.js';

/** The ssh_config(5) values shipshape uses, as OpenSSH would compute them for one alias. */
export interface SshConfigValues {
  hostName?: string;
  user?: string;
  port?: number;
  /** Every IdentityFile that applies, in order, `~` and tokens expanded. */
  identityFiles: string[];
  identitiesOnly?: boolean;
  /** `IdentityAgent`: a socket path, `SSH_AUTH_SOCK`, or `none`. */
  identityAgent?: string;
  /** Jump hosts in order (`user@host:port` as written); undefined for none. */
  proxyJump?: string[];
  /** A command to connect through; shipshape cannot run one (it is only reported as ignored). */
  proxyCommand?: string;
  strictHostKeyChecking?: 'yes' | 'no' | 'ask' | 'accept-new' | 'off';
  userKnownHostsFiles?: string[];
  globalKnownHostsFiles?: string[];
  /** Seconds. */
  connectTimeout?: number;
  /** Seconds; 0 disables. */
  serverAliveInterval?: number;
  forwardAgent?: boolean;
}

/**
 * What the caller already knows, like ssh's command line: these take part in `Match user` /
 * `Match host` and in `%r`/`%h`/`%p`, as `ssh -l user -p port` would.
 */
export interface SshConfigContext {
  homedir?: string;
  localUser?: string;
  hostname?: string;
  user?: string;
  port?: number;
}

/** Directives that add up instead of first-wins. */
const REPEATABLE = new Set([
  'identityfile',
  'certificatefile',
  'localforward',
  'remoteforward',
  'dynamicforward',
]);

type Settings = Map<string, string[][]>;

/**
 * Computes OpenSSH's values for `alias` from config text: blocks are read top to bottom and the
 * first value obtained for a keyword wins (IdentityFile accumulates).
 *
 * The ssh-config package parses; evaluation is ours, because its compute() differs from OpenSSH
 * in ways that matter here: `?` matches zero characters, and it runs `Match exec` commands and
 * nslookup while computing. Deliberate limits: `Match exec` never matches (we do not run
 * commands to read a config), `Include` is not followed, CanonicalizeHostname is ignored.
 */
export function resolveSshConfig(
  alias: string,
  text: string,
  context: SshConfigContext = {},
): SshConfigValues {
  const home = context.homedir ?? homedir();
  const localUser = context.localUser ?? currentUser();
  const settings: Settings = new Map();
  const lines = SSHConfig.parse(text);

  const apply = (line: Line) => {
    if (!('param' in line)) return;
    const key = line.param.toLowerCase();
    const value = tokens(line.value);
    if (REPEATABLE.has(key)) settings.set(key, [...(settings.get(key) ?? []), value]);
    else if (!settings.has(key)) settings.set(key, [value]);
  };
  const first = (key: string): string | undefined => settings.get(key)?.[0]?.[0];
  const hostNow = () => context.hostname ?? expandHostName(first('hostname'), alias) ?? alias;
  const userNow = () => context.user ?? first('user') ?? localUser;

  let wantFinalPass = false;
  const pass = (final: boolean) => {
    for (const line of lines) {
      if (!('param' in line)) continue;
      const key = line.param.toLowerCase();
      if (!('config' in line)) {
        apply(line);
        continue;
      }
      let active: boolean;
      if (key === 'host') {
        active = hostLineMatches(tokens(line.value), alias);
      } else {
        const m = matchLineMatches(tokens(line.value), {
          final,
          host: hostNow(),
          originalHost: alias,
          user: userNow(),
          localUser,
        });
        wantFinalPass ||= m.wantsFinal;
        active = m.active;
      }
      if (active) for (const sub of line.config) apply(sub);
    }
  };
  pass(false);
  if (wantFinalPass) pass(true);

  const hostName = expandHostName(first('hostname'), alias);
  const port = toInt(first('port'));
  const tokensFor = {
    '%': '%',
    d: home,
    h: context.hostname ?? hostName ?? alias,
    n: alias,
    p: String(context.port ?? port ?? 22),
    r: context.user ?? first('user') ?? localUser,
    u: localUser,
  };
  const path = (p: string) => expandTilde(expandTokens(p, tokensFor), home);
  const fileList = (key: string): string[] | undefined => {
    const list = settings.get(key)?.[0];
    if (!list) return undefined;
    return list.length === 1 && list[0]?.toLowerCase() === 'none' ? [] : list.map(path);
  };
  const proxyJump = first('proxyjump');
  const proxyCommand = settings.get('proxycommand')?.[0]?.join(' ');
  const agent = first('identityagent');

  return {
    hostName,
    user: first('user'),
    port,
    // OpenSSH drops repeats (add_identity_file()), which a `Match final` second pass would add.
    identityFiles: [
      ...new Set((settings.get('identityfile') ?? []).flatMap((v) => (v[0] ? [path(v[0])] : []))),
    ],
    identitiesOnly: toBool(first('identitiesonly')),
    identityAgent: agent === undefined || /^(none|SSH_AUTH_SOCK)$/i.test(agent) ? agent : path(agent),
    proxyJump:
      proxyJump === undefined || proxyJump.toLowerCase() === 'none' ? undefined : proxyJump.split(','),
    proxyCommand:
      proxyCommand === undefined || proxyCommand.toLowerCase() === 'none' ? undefined : proxyCommand,
    strictHostKeyChecking: toStrict(first('stricthostkeychecking')),
    userKnownHostsFiles: fileList('userknownhostsfile'),
    globalKnownHostsFiles: fileList('globalknownhostsfile'),
    connectTimeout: toInt(first('connecttimeout')),
    serverAliveInterval: toInt(first('serveraliveinterval')),
    forwardAgent: toBool(first('forwardagent')),
  };
}

/** The text of `~/.ssh/config` (or `file`); a missing file reads as an empty config. */
export function loadSshConfig(file: string = join(homedir(), '.ssh', 'config')): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return '';
    throw e;
  }
}

/**
 * `Host` lines: whitespace-separated patterns, each matched whole and case-sensitively against
 * the alias as typed (commas are not separators here, unlike in Match); one negated hit vetoes.
 */
function hostLineMatches(patterns: string[], alias: string): boolean {
  let hit = false;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    if (!matchPattern(alias, negated ? p.slice(1) : p)) continue;
    if (negated) return false;
    hit = true;
  }
  return hit;
}

interface MatchContext {
  final: boolean;
  host: string;
  originalHost: string;
  user: string;
  localUser: string;
}

/** `Match` criteria, all of which must hold; `!criterion` inverts one (readconf.c match_cfg_line). */
function matchLineMatches(words: string[], ctx: MatchContext): { active: boolean; wantsFinal: boolean } {
  let active = true;
  let wantsFinal = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    const negated = word.startsWith('!');
    const criterion = (negated ? word.slice(1) : word).toLowerCase();
    let result: boolean;
    if (criterion === 'all') result = true;
    else if (criterion === 'canonical' || criterion === 'final') {
      wantsFinal = true;
      result = ctx.final;
    } else {
      const arg = words[++i] ?? '';
      const list = (subject: string, ignoreCase = false) =>
        matchPatternList(subject, arg, { ignoreCase }) === 'match';
      if (criterion === 'host') result = list(ctx.host, true);
      else if (criterion === 'originalhost') result = list(ctx.originalHost);
      else if (criterion === 'user') result = list(ctx.user);
      else if (criterion === 'localuser') result = list(ctx.localUser);
      // exec, localnetwork, tagged and anything newer: treated as not matching, see above.
      else result = false;
    }
    if (result === negated) active = false;
  }
  return { active, wantsFinal };
}

function tokens(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (Array.isArray(value)) return value.map((v: { val: string }) => v.val);
  return [];
}

function expandHostName(value: string | undefined, alias: string): string | undefined {
  return value === undefined ? undefined : expandTokens(value, { '%': '%', h: alias });
}

/** Replaces `%x` tokens it knows; unknown ones are left as written. */
function expandTokens(value: string, values: Readonly<Record<string, string>>): string {
  return value.replace(/%(.)/g, (whole, c: string) => values[c] ?? whole);
}

export function expandTilde(path: string, home: string): string {
  if (path === '~') return home;
  return path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

function toInt(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

function toBool(v: string | undefined): boolean | undefined {
  const s = v?.toLowerCase();
  if (s === 'yes' || s === 'true') return true;
  if (s === 'no' || s === 'false') return false;
  return undefined;
}

function toStrict(v: string | undefined): SshConfigValues['strictHostKeyChecking'] {
  const s = v?.toLowerCase();
  if (s === 'yes' || s === 'true') return 'yes';
  if (s === 'no' || s === 'false') return 'no';
  if (s === 'ask' || s === 'accept-new' || s === 'off') return s;
  return undefined;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? '';
  }
}
