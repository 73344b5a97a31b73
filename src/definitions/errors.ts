import { EXIT, type ExitCode } from './exit-codes.js';

type Details = Record<string, unknown>;
interface ErrorDefinition {
  /** Fixed, or read from the details when one code covers several outcomes. */
  exit: ExitCode | ((d: Details) => ExitCode);
  message: (d: Details) => string;
  hint: (d: Details) => string;
}

const s = (v: unknown): string => (v === undefined ? '' : String(v));

/**
 * Every error a user can see, keyed by code. A message says what happened in one line,
 * a hint says what to type next.
 */
export const ERRORS = {
  ECONFIG: {
    exit: EXIT.usage,
    message: (d) => `${s(d.file)}: ${s(d.count)} problem(s) in the configuration`,
    hint: () => 'Fix the problems listed above; no host was contacted.',
  },
  ENOCONFIG: {
    exit: EXIT.usage,
    message: (d) => `cannot read ${s(d.file)}: ${s(d.reason)}`,
    hint: () => 'Create deploy.yml (see deploy.example.yml) or pass -c <file>.',
  },
  EUSAGE: {
    exit: EXIT.usage,
    message: (d) => s(d.reason),
    hint: () => 'Run `deploy --help` for usage.',
  },
  ESELECTOR: {
    exit: EXIT.usage,
    message: (d) =>
      d.selector
        ? `selector \`${s(d.selector)}\` matches no host`
        : 'no selector given and no default_selector set',
    hint: (d) => `Choose one of: ${s(d.choices)}`,
  },
  ECONFIRM: {
    exit: EXIT.usage,
    message: (d) =>
      d.declined
        ? `not confirmed: nothing was done on ${s(d.hosts)}`
        : `${s(d.confirming)} ask(s) for a confirmation (confirm: true in deploy.yml) and there is no terminal to answer it`,
    hint: (d) =>
      d.declined
        ? 'Run it again and answer y to go ahead.'
        : 'No host was contacted. Run it on a terminal to answer, or pass --yes where it is meant to run unattended (CI).',
  },
  ETASK: {
    exit: EXIT.failed,
    message: (d) =>
      `${s(d.host)}: task \`${s(d.task)}\` failed (exit ${s(d.exitCode)})\n  command: ${s(d.command)}\n  output: ${s(d.stderr) || '(empty)'}`,
    hint: (d) =>
      d.noRelease
        ? `Nothing is deployed on ${s(d.host)} yet: run \`deploy ${s(d.host)}\` first.`
        : `Its output is above; \`deploy ssh ${s(d.host)}\` opens a shell in current. The deploy lock was released.`,
  },
  EQUOTE: {
    exit: EXIT.usage,
    message: (d) => `refusing to pass ${s(d.value)} to a shell: it contains a NUL byte or is not a number`,
    hint: () => 'Remove NUL bytes from paths and values in deploy.yml.',
  },
  EINTERNAL: {
    exit: EXIT.failed,
    message: (d) => `internal error: ${s(d.reason)}`,
    hint: () => 'This is a bug in shipshape; report it with the command you ran and this message.',
  },
  ELOCKED: {
    exit: EXIT.locked,
    message: (d) => `${s(d.host)}: deploy lock held by ${s(d.holder)}`,
    hint: (d) =>
      d.stale
        ? `The holder's process is gone (stale lock). Run \`deploy unlock ${s(d.selector)}\`.`
        : `Wait for that deploy to finish, or if it is dead run \`deploy unlock ${s(d.selector)}\`.`,
  },
  ESTAGE: {
    exit: EXIT.failed,
    message: (d) =>
      `${s(d.host)}: stage \`${s(d.stage)}\` failed (exit ${s(d.exitCode)})\n  command: ${s(d.command)}\n  stderr: ${s(d.stderr) || '(empty)'}`,
    hint: () => '`current` was not switched. Fix the cause and run the deploy again.',
  },
  ECURRENT: {
    exit: EXIT.failed,
    message: (d) => `${s(d.host)}: ${s(d.path)} exists and is not a symlink`,
    hint: () =>
      'Move that directory aside by hand (e.g. `mv current current.bak`); shipshape never deletes it for you.',
  },
  ESHAREDMISSING: {
    exit: EXIT.failed,
    message: (d) =>
      `${s(d.host)}: required shared files are missing: ${s(d.files)}${d.dir ? ` (expected in ${s(d.dir)})` : ''}`,
    hint: (d) =>
      [
        `Put them on the server, from copies with this server's values (${s(d.copies)}), not your development files:`,
        `  ${s(d.setup)}`,
        'or by hand:',
        ...((d.copy as string[] | undefined) ?? []).map((c) => `  ${c}`),
        'or mark them optional in deploy.yml (shared_files: [{ path: …, optional: true }]).',
      ].join('\n'),
  },
  ERELEASECHANGED: {
    exit: EXIT.failed,
    message: (d) =>
      `${s(d.host)}: the live release ${s(d.release)} was changed on the server since it went live: ${s(d.changes)}`,
    hint: (d) =>
      `Nothing was changed. Bring those changes into the source (they are in ${s(d.releasePath)}), or set \`release_changes: warn\` to deploy over them; copies are then kept in shared/.rescued/.`,
  },
  ETARGETCHANGED: {
    exit: EXIT.failed,
    message: (d) => `${s(d.host)}: release ${s(d.release)} is not what was deployed: ${s(d.changes)}`,
    hint: (d) =>
      `Nothing was switched. Its files changed since it went live (a write in place reaches every release that shares the file). Pass --force to switch to it anyway, or choose another release (\`deploy releases ${s(d.host)}\`, then --to).`,
  },
  ESOURCE: {
    exit: EXIT.failed,
    message: (d) => `${s(d.path)}: ${s(d.reason)}`,
    hint: (d) =>
      s(d.advice) ||
      (d.changed
        ? 'Stop whatever writes into the source directory (a watcher, a build) and run the deploy again.'
        : 'Fix the permissions of that file (or exclude it in .deployignore) and run the deploy again.'),
  },
  EDIRTY: {
    exit: EXIT.usage,
    message: (d) => `refusing to deploy uncommitted changes (require_clean): ${s(d.reason)}`,
    hint: () => 'Commit or stash them, or deploy a commit with `--revision <ref>`; no host was contacted.',
  },
  EREVISION: {
    exit: EXIT.usage,
    message: (d) => `cannot deploy revision \`${s(d.revision)}\`: ${s(d.reason)}`,
    hint: () =>
      'Name a commit of the repository that holds `source` (a tag, branch or sha; `git log` lists them); no host was contacted.',
  },
  EARTIFACT: {
    exit: EXIT.usage,
    message: (d) => `cannot deploy artifact \`${s(d.id)}\`: ${s(d.reason)}`,
    hint: () =>
      'Name an artifact the store holds (`deploy artifacts list`), or build one with `deploy build`; no host was contacted.',
  },
  EOBJECT: {
    exit: EXIT.failed,
    message: (d) =>
      `${d.host ? `${s(d.host)}: ` : ''}${s(d.path)}: its content in the artifact store does not match its sha256 ${s(d.sha256).slice(0, 12)}… (altered or damaged in ${s(d.store)}); nothing was switched`,
    hint: (d) =>
      `Delete the damaged object from the store (objects/${s(d.sha256).slice(0, 2)}/${s(d.sha256)}) and run \`deploy build\` for the same revision again: it stores what the store lacks, and the id stays the same.`,
  },
  EFETCH: {
    exit: EXIT.failed,
    message: (d) => `${s(d.host)}: fetch: pull, but ${s(d.reason)}; nothing was uploaded`,
    hint: () =>
      'Give the host curl or GNU wget and a route to the store (DNS, firewall, proxy), or set `fetch: auto` (push when it cannot) or `fetch: push` for it.',
  },
  ESTORE: {
    exit: EXIT.failed,
    message: (d) => `artifact store ${s(d.store)}: could not ${s(d.action)}: ${s(d.reason)}`,
    hint: () =>
      'Check artifacts.store, endpoint and region in deploy.yml and the AWS credentials in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE).',
  },
  ERECIPE: {
    exit: EXIT.usage,
    message: (d) => `persistence settings: ${s(d.reason)}`,
    hint: (d) =>
      s(d.advice) ||
      'Fix `recipe:` and the persistence keys in deploy.yml (see docs/persistence.md); no host was contacted.',
  },
  ECONNECT: {
    exit: EXIT.connection,
    message: (d) => `${s(d.host)}: cannot connect to ${s(d.address)}: ${s(d.reason)}`,
    hint: (d) => s(d.advice) || 'Check the hostname, port and that sshd is running.',
  },
  ECONNLOST: {
    exit: EXIT.connection,
    message: (d) => `${s(d.host)}: connection lost${d.stage ? ` during stage \`${s(d.stage)}\`` : ''}`,
    hint: (d) =>
      d.switched
        ? '`current` already points at the new, complete release.'
        : d.switchMaybe
          ? '`current` may already point at the new release: check with `deploy releases`, then deploy again.'
          : '`current` was not touched. Run the deploy again (use `deploy unlock` if it reports a stale lock).',
  },
  EAUTH: {
    exit: EXIT.connection,
    message: (d) =>
      `${s(d.host)}: authentication as ${s(d.user)} at ${s(d.address)} failed (tried: ${s(d.tried)})${d.skipped ? `; skipped ${s(d.skipped)}` : ''}`,
    hint: () =>
      'Check the user, then set identity_file, load the key with `ssh-add`, or set SSH_PRIVATE_KEY (see docs/ssh.md).',
  },
  ERUN: {
    exit: EXIT.failed,
    message: (d) => `${s(d.host)}: command exited with ${s(d.exitCode)}`,
    hint: (d) => `See its output above; \`deploy ssh ${s(d.host)}\` opens a shell in current.`,
  },
  EHOSTKEY: {
    exit: EXIT.connection,
    message: (d) =>
      `${s(d.host)}: ${s(d.reason)} host key for ${s(d.hostname)} port ${s(d.port)}: ${s(d.keyType)} ${s(d.fingerprint)}`,
    hint: (d) =>
      d.reason === 'revoked'
        ? // Re-adding it would undo the revocation: a revoked key is one that must never be trusted again.
          `Do not trust this key again: it is marked @revoked in your known_hosts. Find out why the server presents it (a host restored from an old image, or one that is not yours), give it new host keys (\`ssh-keygen -A\` after removing the old ones), and record the new fingerprint once you have checked it on the server.`
        : `${d.reason === 'changed' ? `If the server was really re-keyed, remove the old entry first (\`ssh-keygen -R '${s(d.entryName)}'${d.knownHostsFile ? ` -f ${s(d.knownHostsFile)}` : ''}\`). ` : ''}` +
          `Compare the fingerprint with the server's (\`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on it), then trust it: \`ssh-keyscan -p ${s(d.port)} ${s(d.hostname)} >> ${s(d.knownHostsFile) || '~/.ssh/known_hosts'}\``,
  },
  EHEALTH: {
    exit: EXIT.rolledBack,
    message: (d) => `${s(d.host)}: health check failed after the switch: ${s(d.reason)}`,
    hint: () =>
      '`current` was switched back to the previous release. Check the new release before deploying again.',
  },
  EAFTERSWITCH: {
    exit: EXIT.rolledBack,
    message: (d) =>
      `${s(d.host)}: stage \`${s(d.stage)}\` failed after the switch (exit ${s(d.exitCode)})\n  command: ${s(d.command)}\n  stderr: ${s(d.stderr) || '(empty)'}`,
    hint: () =>
      '`current` was switched back to the previous release (a first release is unlinked). Fix the hook and deploy again.',
  },
  ESWITCHEDBACK: {
    exit: EXIT.rolledBack,
    message: (d) =>
      `${s(d.host)}: switched back to ${s(d.previous) || 'no release (first deploy)'}: ${s(d.reason)}`,
    hint: () => 'Fix the failure reported for the other host(s), then deploy again.',
  },
  EREVERT: {
    exit: EXIT.failed,
    message: (d) =>
      `${s(d.host)}: could not switch back: \`current\` still points at ${s(d.release)}: ${s(d.reason)}`,
    hint: (d) =>
      d.previous
        ? `Check with \`deploy releases ${s(d.host)}\`, then \`deploy rollback ${s(d.host)} --to ${s(d.previous)}\`.`
        : `Check with \`deploy releases ${s(d.host)}\`; remove \`current\` by hand if that release must not serve.`,
  },
  ENOROLLBACK: {
    exit: EXIT.failed,
    message: (d) => `${s(d.host)}: ${s(d.reason)}`,
    hint: (d) =>
      d.candidates ? `Candidates: ${s(d.candidates)}` : 'Run `deploy releases` to see the history.',
  },
  EINTERRUPTED: {
    exit: (d) => (d.signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint),
    message: (d) => `interrupted by ${s(d.signal)}`,
    hint: (d) =>
      d.task
        ? `The task \`${s(d.task)}\` was stopped on every host and the deploy lock released; \`current\` was not touched.`
        : d.switched
          ? 'The new release was already live and stays live.'
          : '`current` was not touched; the incomplete release was removed.',
  },
  EKNOWNHOSTS: {
    exit: EXIT.usage,
    message: (d) => `known_hosts file ${s(d.file)} cannot be read: ${s(d.reason)}`,
    hint: () =>
      'Point known_hosts_file in deploy.yml (or UserKnownHostsFile in your ssh config) at a file, or fix its permissions.',
  },
  EKEYFILE: {
    exit: EXIT.usage,
    message: (d) => `${s(d.host)}: identity_file ${s(d.file)} ${s(d.reason)}`,
    hint: (d) =>
      `Fix identity_file in deploy.yml, create the key (\`ssh-keygen -t ed25519 -f ${s(d.file)}\`), or set SSH_PRIVATE_KEY.`,
  },
} satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERRORS;

export class DeployError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly exitCode: ExitCode;
  readonly details: Details;

  constructor(code: ErrorCode, details: Details = {}) {
    const def: ErrorDefinition = ERRORS[code];
    super(def.message(details));
    this.name = 'DeployError';
    this.code = code;
    this.hint = def.hint(details);
    this.exitCode = typeof def.exit === 'function' ? def.exit(details) : def.exit;
    this.details = details;
  }
}

export const isDeployError = (e: unknown): e is DeployError => e instanceof DeployError;

/** Anything thrown on this machine (a bug, a local step) as the error a user sees. */
export function toDeployError(e: unknown, host: string): DeployError {
  if (isDeployError(e)) return e;
  return new DeployError('ESTAGE', {
    host,
    stage: 'local',
    exitCode: 1,
    command: '(local)',
    stderr: (e as Error)?.stack ?? String(e),
  });
}
