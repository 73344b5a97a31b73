import { EXIT, type ExitCode } from './exit-codes.js';
import { deployCommand, type DeployCommand } from './invocation.js';
import { quote } from './shell-quote.js';

/** One problem in deploy.yml (or in a `-o` override), where it is and what is wrong. */
export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  key: string;
  message: string;
  /** The `-o key` the problem comes from: it has no line in the file. */
  override?: string;
}

/** A remote command that failed: where, how, and the last lines it wrote to stderr. */
interface FailedCommand {
  host: string;
  stage: string;
  /** null: the command ended without an exit status (killed by a signal). */
  exitCode: number | null;
  command: string;
  stderr: string;
}

/** What each code's message and hint are made of: `new DeployError(code, details)` is checked against it. */
export interface ErrorDetails {
  ECONFIG: { file: string; count: number; problems: ConfigProblem[]; list: string[] };
  ENOCONFIG: { file: string; reason: string };
  EUSAGE: { reason: string };
  /** Without `selector`: none was given and there is no default_selector. */
  ESELECTOR: { selector?: string; choices: string };
  /** `confirming`: the hosts that ask and there is no terminal; `declined`: the answer was no. */
  ECONFIRM: { hosts: string; confirming?: string; declined?: boolean };
  /** Without `exitCode`: no step ran (`noRelease`: nothing is live to run it in). */
  ETASK: {
    host: string;
    task: string;
    exitCode?: number | null;
    command: string;
    stderr: string;
    noRelease?: boolean;
  };
  EQUOTE: { value: string };
  /** A bug in shipshape; `host` and `stage` where it is known where it happened. */
  EINTERNAL: { reason: string; host?: string; stage?: string };
  ELOCKED: { host: string; holder: string; stale: boolean };
  ESTAGE: FailedCommand;
  ECURRENT: { host: string; path: string };
  ESHAREDMISSING: {
    host: string;
    files: string;
    dir?: string;
    list: string[];
    /** The `--put` values (`LOCAL:SHARED_PATH`) of the `deploy setup` command that puts them. */
    puts: string[];
    copy: string[];
    /** The server copies' file names the hint suggests. */
    copies: string;
  };
  /**
   * writable_mode could not change the writable dirs: `denied` names what another user owns (only a
   * file's owner or root may chmod or setfacl it; `link`: the release's path that resolves to it),
   * or, for chown, the deploy user is not root.
   */
  EWRITABLE: {
    host: string;
    mode: string;
    writableUser?: string;
    recursive: boolean;
    deployUser: string;
    denied: { path: string; owner: string; link?: string }[];
  };
  ERELEASECHANGED: { host: string; release?: string; changes: string; releasePath: string };
  ETARGETCHANGED: { host: string; release: string; changes: string };
  /** `changed`: something writes into the source; `advice` replaces the hint. */
  ESOURCE: { path: string; reason: string; changed?: boolean; advice?: string };
  /** `notGit`: the source is in no git work tree, so nothing tells what is committed. */
  EDIRTY: { reason: string; notGit?: boolean };
  EREVISION: { revision: string; reason: string };
  EARTIFACT: { id: string; reason: string };
  EOBJECT: { host?: string; path: string; sha256: string; store: string };
  EFETCH: { host: string; reason: string };
  ESTORE: { store: string; action: string; reason: string };
  ERECIPE: { reason: string; advice?: string };
  ECONNECT: { host: string; address: string; reason: string; advice?: string };
  /** `switched`: `current` is on the new release; `switchMaybe`: a switching stage had started. */
  ECONNLOST: { host: string; stage?: string; switched?: boolean; switchMaybe?: boolean };
  EAUTH: { host: string; user: string; address: string; tried: string; skipped?: string };
  ERUN: { host: string; exitCode: number | null; stdout: string; stderr: string };
  EHOSTKEY: {
    host: string;
    hostname: string;
    port: number;
    keyType: string;
    fingerprint: string;
    reason: 'unknown' | 'changed' | 'revoked';
    /** The name known_hosts has the host under (`[host]:port` off port 22). */
    entryName: string;
    knownHostsFile?: string;
  };
  EHEALTH: { host: string; reason: string; previous?: string };
  /** A failed command after the rename over `current`, or (`reason`) another failure there. */
  EAFTERSWITCH: FailedCommand | { host: string; stage: string; reason: string };
  ESWITCHEDBACK: { host: string; previous?: string; reason: string };
  EREVERT: { host: string; release: string; previous?: string; reason: string };
  ENOROLLBACK: { host: string; reason: string; candidates?: string };
  /** `task`: a task was running; `switched`: the new release was already live. */
  /**
   * `rollback`: the run was a rollback, which makes no release, of the hosts its selector words
   * name (none: the default selector); `switched`: `current` moved.
   */
  EINTERRUPTED: {
    signal: string;
    switched?: boolean;
    task?: string;
    rollback?: { selector: readonly string[] };
    /** A deploy stopped with the new release live on some hosts (`live`) and not on the others. */
    live?: readonly string[];
    notLive?: readonly string[];
  };
  EKNOWNHOSTS: { file: string; reason: string };
  EKEYFILE: { host: string; file: string; reason: string };
}

export type ErrorCode = keyof ErrorDetails;

interface ErrorDefinition<D> {
  /** Fixed, or read from the details when one code covers several outcomes. */
  exit: ExitCode | ((d: D) => ExitCode);
  message: (d: D) => string;
  /** `deploy` builds each `deploy …` command the hint prints, so that it reads the run's `-c` file. */
  hint: (d: D, deploy: DeployCommand) => string;
}

const failedCommand = (d: FailedCommand) =>
  `(exit ${String(d.exitCode)})\n  command: ${d.command}\n  stderr: ${d.stderr || '(empty)'}`;

/**
 * Every error a user can see, keyed by code. A message says what happened in one line,
 * a hint says what to type next.
 */
export const ERRORS: { readonly [C in ErrorCode]: ErrorDefinition<ErrorDetails[C]> } = {
  ECONFIG: {
    exit: EXIT.usage,
    message: (d) => `${d.file}: ${d.count} problem(s) in the configuration`,
    hint: () => 'Fix the problems listed above; no host was contacted.',
  },
  ENOCONFIG: {
    exit: EXIT.usage,
    message: (d) => `cannot read ${d.file}: ${d.reason}`,
    hint: (d, deploy) =>
      d.reason === 'ENOENT'
        ? `Create ${d.file} (\`${deploy`init`}\` writes a commented one), or pass -c <file> to read another.`
        : d.reason === 'EISDIR'
          ? `${d.file} is a directory: pass -c <file> with the path of the configuration file.`
          : d.reason === 'EACCES' || d.reason === 'EPERM'
            ? `This user may not read ${d.file}: fix the permissions of the file or its directories, or pass -c <file> to read another.`
            : 'Pass -c <file> with the path of a readable deploy.yml.',
  },
  EUSAGE: {
    exit: EXIT.usage,
    message: (d) => d.reason,
    hint: (_d, deploy) => `Run \`${deploy`--help`}\` for usage.`,
  },
  ESELECTOR: {
    exit: EXIT.usage,
    message: (d) =>
      d.selector
        ? `selector \`${d.selector}\` matches no host`
        : 'no selector given and no default_selector set',
    hint: (d) => `Choose one of: ${d.choices}`,
  },
  ECONFIRM: {
    exit: EXIT.usage,
    message: (d) =>
      d.declined
        ? `not confirmed: nothing was done on ${d.hosts}`
        : `${d.confirming ?? ''} ask(s) for a confirmation (confirm: true in deploy.yml) and there is no terminal to answer it`,
    hint: (d) =>
      d.declined
        ? 'Run it again and answer y to go ahead.'
        : 'No host was contacted. Run it on a terminal to answer, or pass --yes where it is meant to run unattended (CI).',
  },
  ETASK: {
    exit: EXIT.failed,
    message: (d) =>
      `${d.host}: task \`${d.task}\` failed${d.exitCode === undefined ? '' : ` (exit ${String(d.exitCode)})`}\n  command: ${d.command}\n  output: ${d.stderr || '(empty)'}`,
    hint: (d, deploy) =>
      d.noRelease
        ? `Nothing is deployed on ${d.host} yet: run \`${deploy`${d.host}`}\` first.`
        : `Its output is above; \`${deploy`ssh ${d.host}`}\` opens a shell in current. The deploy lock was released.`,
  },
  EQUOTE: {
    exit: EXIT.usage,
    message: (d) => `refusing to pass ${d.value} to a shell: it contains a NUL byte or is not a number`,
    hint: () => 'Remove NUL bytes from paths and values in deploy.yml.',
  },
  EINTERNAL: {
    exit: EXIT.failed,
    message: (d) =>
      `${d.host ? `${d.host}: ` : ''}internal error${d.stage ? ` in stage \`${d.stage}\`` : ''}: ${d.reason}`,
    hint: () =>
      'This is a bug in shipshape: please report it with the command you ran, this message and the stack trace (printed with -v).',
  },
  ELOCKED: {
    exit: EXIT.locked,
    message: (d) => `${d.host}: deploy lock held by ${d.holder}`,
    hint: (d, deploy) =>
      d.stale
        ? `The holder's process is gone (stale lock). Run \`${deploy`unlock ${d.host}`}\`.`
        : `Wait for that deploy to finish, or if it is dead run \`${deploy`unlock ${d.host}`}\`.`,
  },
  ESTAGE: {
    exit: EXIT.failed,
    message: (d) => `${d.host}: stage \`${d.stage}\` failed ${failedCommand(d)}`,
    hint: () => '`current` was not switched. Fix the cause and run the deploy again.',
  },
  ECURRENT: {
    exit: EXIT.failed,
    message: (d) => `${d.host}: ${d.path} exists and is not a symlink`,
    hint: () =>
      'Move that directory aside by hand (e.g. `mv current current.bak`); shipshape never deletes it for you.',
  },
  ESHAREDMISSING: {
    exit: EXIT.failed,
    message: (d) =>
      `${d.host}: required shared files are missing: ${d.files}${d.dir ? ` (expected in ${d.dir})` : ''}`,
    hint: (d, deploy) =>
      [
        `Put them on the server, from copies with this server's values (${d.copies}), not your development files:`,
        `  ${deploy`setup ${d.host}`}${d.puts.map((p) => ` --put ${quote(p)}`).join('')}`,
        'or by hand:',
        ...d.copy.map((c) => `  ${c}`),
        'or mark them optional in deploy.yml (shared_files: [{ path: …, optional: true }]).',
      ].join('\n'),
  },
  EWRITABLE: {
    exit: EXIT.failed,
    message: (d) =>
      d.mode === 'chown'
        ? `${d.host}: writable_mode chown could not give the writable dirs to ${d.writableUser ?? '?'}: only root may give a file away, and the deploy user ${d.deployUser} is not root`
        : `${d.host}: writable_mode ${d.mode} could not change the permissions of ${d.denied
            .map((x) => `${x.path}${x.link ? ` (${x.link} links to it)` : ''}, owned by ${x.owner}`)
            .join('; ')}: only its owner or root may, and the deploy user is ${d.deployUser}`,
    hint: (d, deploy) =>
      d.mode === 'chown'
        ? `\`current\` was not switched. With a non-root deploy user use \`writable_mode: acl\` (writable_user: ${d.writableUser ?? 'www-data'}), as docs/persistence.md ("Setting up a real server") sets it up, or deploy as root.`
        : `\`current\` was not switched. As root, give ${d.denied.length > 1 ? 'them' : 'it'} to the deploy user: \`chown ${d.recursive ? '-R ' : ''}${d.deployUser} -- ${d.denied.map((x) => quote(x.path)).join(' ')}\`${d.recursive ? '' : ` (not -R: the app keeps its files in ${d.denied.length > 1 ? 'them' : 'it'})`}; the next deploy makes ${d.denied.length > 1 ? 'them' : 'it'} writable for the app again. \`${deploy`setup ${d.host}`}\` lists every writable dir another user owns.`,
  },
  ERELEASECHANGED: {
    exit: EXIT.failed,
    message: (d) =>
      `${d.host}: the live release ${d.release ?? ''} was changed on the server since it went live: ${d.changes}`,
    hint: (d) =>
      `Nothing was changed. Bring those changes into the source (they are in ${d.releasePath}), or set \`release_changes: warn\` to deploy over them; copies are then kept in shared/.rescued/.`,
  },
  ETARGETCHANGED: {
    exit: EXIT.failed,
    message: (d) => `${d.host}: release ${d.release} is not what was deployed: ${d.changes}`,
    hint: (d, deploy) =>
      `Nothing was switched. Its files changed since it went live (a write in place reaches every release that shares the file). Pass --force to switch to it anyway, or choose another release (\`${deploy`releases ${d.host}`}\`, then --to).`,
  },
  ESOURCE: {
    exit: EXIT.failed,
    message: (d) => `${d.path}: ${d.reason}`,
    hint: (d) =>
      d.advice ||
      (d.changed
        ? 'Stop whatever writes into the source directory (a watcher, a build) and run the deploy again.'
        : 'Fix the permissions of that file (or exclude it in .deployignore) and run the deploy again.'),
  },
  EDIRTY: {
    exit: EXIT.usage,
    message: (d) =>
      d.notGit
        ? `require_clean needs git to tell what is committed: ${d.reason}`
        : `refusing to deploy uncommitted changes (require_clean): ${d.reason}`,
    hint: (d) =>
      d.notGit
        ? 'Deploy from a git checkout, or leave out --require-clean and `require_clean: true`; no host was contacted.'
        : 'Commit or stash them, or deploy a commit with `--revision <ref>`; no host was contacted.',
  },
  EREVISION: {
    exit: EXIT.usage,
    message: (d) => `cannot deploy revision \`${d.revision}\`: ${d.reason}`,
    hint: () =>
      'Name a commit of the repository that holds `source` (a tag, branch or sha; `git log` lists them); no host was contacted.',
  },
  EARTIFACT: {
    exit: EXIT.usage,
    message: (d) => `cannot deploy artifact \`${d.id}\`: ${d.reason}`,
    hint: (_d, deploy) =>
      `Name an artifact the store holds (\`${deploy`artifacts list`}\`), or build one with \`${deploy`build`}\`; no host was contacted.`,
  },
  EOBJECT: {
    exit: EXIT.failed,
    message: (d) =>
      `${d.host ? `${d.host}: ` : ''}${d.path}: its content in the artifact store does not match its sha256 ${d.sha256.slice(0, 12)}… (altered or damaged in ${d.store}); nothing was switched`,
    hint: (d, deploy) =>
      `Delete the damaged object from the store (objects/${d.sha256.slice(0, 2)}/${d.sha256}) and run \`${deploy`build`}\` for the same revision again: it stores what the store lacks, and the id stays the same.`,
  },
  EFETCH: {
    exit: EXIT.failed,
    message: (d) => `${d.host}: fetch: pull, but ${d.reason}; nothing was uploaded`,
    hint: () =>
      'Give the host curl or GNU wget and a route to the store (DNS, firewall, proxy), or set `fetch: auto` (push when it cannot) or `fetch: push` for it.',
  },
  ESTORE: {
    exit: EXIT.failed,
    message: (d) => `artifact store ${d.store}: could not ${d.action}: ${d.reason}`,
    hint: () =>
      'Check artifacts.store, endpoint and region in deploy.yml and the AWS credentials in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE).',
  },
  ERECIPE: {
    exit: EXIT.usage,
    message: (d) => `persistence settings: ${d.reason}`,
    hint: (d) =>
      d.advice ||
      'Fix `recipe:` and the persistence keys in deploy.yml (see docs/persistence.md); no host was contacted.',
  },
  ECONNECT: {
    exit: EXIT.connection,
    message: (d) => `${d.host}: cannot connect to ${d.address}: ${d.reason}`,
    hint: (d) => d.advice || 'Check the hostname, port and that sshd is running.',
  },
  ECONNLOST: {
    exit: EXIT.connection,
    message: (d) => `${d.host}: connection lost${d.stage ? ` during stage \`${d.stage}\`` : ''}`,
    hint: (d, deploy) =>
      d.switched
        ? '`current` already points at the new, complete release.'
        : d.switchMaybe
          ? `\`current\` may already point at the new release: check with \`${deploy`releases ${d.host}`}\`, then deploy again.`
          : `\`current\` was not touched. Run the deploy again (use \`${deploy`unlock ${d.host}`}\` if it reports a stale lock).`,
  },
  EAUTH: {
    exit: EXIT.connection,
    message: (d) =>
      `${d.host}: authentication as ${d.user} at ${d.address} failed (tried: ${d.tried})${d.skipped ? `; skipped ${d.skipped}` : ''}`,
    hint: () =>
      'Check the user, then set identity_file, load the key with `ssh-add`, or set SSH_PRIVATE_KEY (see docs/ssh.md).',
  },
  ERUN: {
    exit: EXIT.failed,
    message: (d) => `${d.host}: command exited with ${String(d.exitCode)}`,
    hint: (d, deploy) => `See its output above; \`${deploy`ssh ${d.host}`}\` opens a shell in current.`,
  },
  EHOSTKEY: {
    exit: EXIT.connection,
    message: (d) =>
      `${d.host}: ${d.reason} host key for ${d.hostname} port ${d.port}: ${d.keyType} ${d.fingerprint}`,
    hint: (d) =>
      d.reason === 'revoked'
        ? // Re-adding it would undo the revocation: a revoked key is one that must never be trusted again.
          `Do not trust this key again: it is marked @revoked in your known_hosts. Find out why the server presents it (a host restored from an old image, or one that is not yours), give it new host keys (\`ssh-keygen -A\` after removing the old ones), and record the new fingerprint once you have checked it on the server.`
        : // Commands a person pastes: every name in them quoted (a known_hosts path with a space in it).
          `${d.reason === 'changed' ? `If the server was really re-keyed, remove the old entry first (\`ssh-keygen -R ${quote(String(d.entryName))}${d.knownHostsFile ? ` -f ${quote(String(d.knownHostsFile))}` : ''}\`). ` : ''}` +
          `Compare the fingerprint with the server's (\`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on it), then trust it: \`ssh-keyscan -p ${d.port} ${quote(String(d.hostname))} >> ${d.knownHostsFile ? quote(String(d.knownHostsFile)) : '~/.ssh/known_hosts'}\``,
  },
  EHEALTH: {
    exit: EXIT.rolledBack,
    message: (d) => `${d.host}: health check failed after the switch: ${d.reason}`,
    hint: () =>
      '`current` was switched back to the previous release. Check the new release before deploying again.',
  },
  EAFTERSWITCH: {
    exit: EXIT.rolledBack,
    message: (d) =>
      `${d.host}: stage \`${d.stage}\` failed after the switch${'reason' in d ? `: ${d.reason}` : ` ${failedCommand(d)}`}`,
    hint: () =>
      '`current` was switched back to the previous release (a first release is unlinked). Fix the hook and deploy again.',
  },
  ESWITCHEDBACK: {
    exit: EXIT.rolledBack,
    message: (d) => `${d.host}: switched back to ${d.previous || 'no release (first deploy)'}: ${d.reason}`,
    hint: () => 'Fix the failure reported for the other host(s), then deploy again.',
  },
  EREVERT: {
    exit: EXIT.failed,
    message: (d) => `${d.host}: could not switch back: \`current\` still points at ${d.release}: ${d.reason}`,
    hint: (d, deploy) =>
      d.previous
        ? `Check with \`${deploy`releases ${d.host}`}\`, then \`${deploy`rollback ${d.host} --to ${d.previous}`}\`.`
        : `Check with \`${deploy`releases ${d.host}`}\`; remove \`current\` by hand if that release must not serve.`,
  },
  ENOROLLBACK: {
    exit: EXIT.failed,
    message: (d) => `${d.host}: ${d.reason}`,
    hint: (d, deploy) =>
      d.candidates
        ? `Candidates: ${d.candidates}`
        : `Run \`${deploy`releases ${d.host}`}\` to see the history.`,
  },
  EINTERRUPTED: {
    exit: (d) => (d.signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint),
    message: (d) => `interrupted by ${d.signal}`,
    hint: (d, deploy) =>
      d.task
        ? `The task \`${d.task}\` was stopped on every host and the deploy lock released; \`current\` was not touched.`
        : d.rollback
          ? d.switched
            ? `\`current\` had already moved to the rollback's target on some hosts and stays there: check with \`${deploy`releases`}${d.rollback.selector.map((w) => ` ${quote(w)}`).join('')}\`.`
            : '`current` was not touched: nothing was rolled back.'
          : d.switched
            ? d.live?.length && d.notLive?.length
              ? `The new release was already live on ${d.live.join(', ')} and stays live there; on ${d.notLive.join(', ')} \`current\` was not touched and no new release is left.`
              : 'The new release was already live and stays live.'
            : '`current` was not touched; the incomplete release was removed.',
  },
  EKNOWNHOSTS: {
    exit: EXIT.usage,
    message: (d) => `known_hosts file ${d.file} cannot be read: ${d.reason}`,
    hint: () =>
      'Point known_hosts_file in deploy.yml (or UserKnownHostsFile in your ssh config) at a file, or fix its permissions.',
  },
  EKEYFILE: {
    exit: EXIT.usage,
    message: (d) => `${d.host}: identity_file ${d.file} ${d.reason}`,
    hint: (d) =>
      `Fix identity_file in deploy.yml, create the key (\`ssh-keygen -t ed25519 -f ${quote(String(d.file))}\`), or set SSH_PRIVATE_KEY.`,
  },
};

/** Where in a host's script an error happened: the stage that ran and, for a failed command, its index in that stage's plan. */
export interface ScriptPosition {
  stage: string;
  commandIndex?: number;
}

export class DeployError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly hint: string;
  readonly exitCode: ExitCode;
  readonly details: ErrorDetails[C];
  /** Set by the executor for an error of a remote script (see engine/switch-point.ts). */
  readonly during?: ScriptPosition;

  constructor(code: C, details: ErrorDetails[C], options: { cause?: unknown; during?: ScriptPosition } = {}) {
    // One code's definition, read with that code's details.
    const def = ERRORS[code] as ErrorDefinition<ErrorDetails[C]>;
    super(def.message(details), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeployError';
    this.code = code;
    this.hint = def.hint(details, deployCommand);
    this.exitCode = typeof def.exit === 'function' ? def.exit(details) : def.exit;
    this.details = details;
    this.during = options.during;
  }

  /** The same error, placed in a host's script (as it is without a position). */
  placed(during: ScriptPosition | undefined): DeployError<C> {
    return during ? new DeployError(this.code, this.details, { cause: this.cause, during }) : this;
  }

  /** A bug's stack: of what was thrown (the cause), else an EINTERNAL's own; none for any other error. */
  get trace(): string | undefined {
    if (this.cause instanceof Error) return this.cause.stack;
    return this.code === 'EINTERNAL' ? this.stack : undefined;
  }
}

/** A DeployError, or one with that code (its details then typed). */
export function isDeployError(e: unknown): e is DeployError;
export function isDeployError<C extends ErrorCode>(e: unknown, code: C): e is DeployError<C>;
export function isDeployError(e: unknown, code?: ErrorCode): boolean {
  return e instanceof DeployError && (code === undefined || e.code === code);
}

/**
 * Anything thrown as the error a user sees. What is not a DeployError nobody anticipated: a
 * bug (a TypeError and its kin), reported as EINTERNAL with what was thrown as its cause.
 */
export function toDeployError(e: unknown, host?: string, stage?: string): DeployError {
  if (isDeployError(e)) return e;
  const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new DeployError('EINTERNAL', { reason, host, stage }, { cause: e });
}

/** An error as a result carries it and a person reads it; `stack` only for a bug, printed with -v. */
export interface ShownError {
  code: string;
  message: string;
  hint: string;
  stack?: string;
}

export const shownError = (e: DeployError): ShownError => ({
  code: e.code,
  message: e.message,
  hint: e.hint,
  ...(e.trace ? { stack: e.trace } : {}),
});
