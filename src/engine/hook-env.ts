import { liveRelease, type RemoteState } from '../layout/remote-state.js';
import type { HostContext } from '../stages/types.js';

/**
 * What a hook, a task or an event step knows about the run, as SHIPSHAPE_* variables. Every
 * name is always set (empty when the run does not know it yet: a build before any host is read
 * has no release), so `set -u` scripts can read them all.
 */
export interface RunContext {
  application: string;
  /** One alias; for a step on this machine, the selected hosts separated by spaces. */
  host: string;
  stage?: string;
  deployPath?: string;
  release?: string;
  releasePath?: string;
  previousRelease?: string;
  revision?: string;
  user: string;
  /** Event hooks only: success, failed, rolled_back. */
  status?: string;
  /** Event hooks only: why the run failed, masked. */
  error?: string;
}

export function hookEnv(c: RunContext): Record<string, string> {
  const env: Record<string, string> = {
    SHIPSHAPE_APPLICATION: c.application,
    SHIPSHAPE_HOST: c.host,
    SHIPSHAPE_STAGE: c.stage ?? '',
    SHIPSHAPE_DEPLOY_PATH: c.deployPath ?? '',
    SHIPSHAPE_RELEASE: c.release ?? '',
    SHIPSHAPE_RELEASE_PATH: c.releasePath ?? '',
    SHIPSHAPE_PREVIOUS_RELEASE: c.previousRelease ?? '',
    SHIPSHAPE_REVISION: c.revision ?? '',
    SHIPSHAPE_USER: c.user,
  };
  if (c.status !== undefined) {
    env.SHIPSHAPE_STATUS = c.status;
    env.SHIPSHAPE_ERROR = c.error ?? '';
  }
  return env;
}

/** A host's context as far as the deploy knows it: the release once it is named, what was live before. */
export function hostRunContext(
  ctx: HostContext & {
    release?: string;
    releasePath?: string;
    remote?: RemoteState;
    source?: { revision?: string };
  },
): RunContext {
  return {
    application: ctx.config.application,
    host: ctx.alias,
    stage: ctx.host.stage,
    deployPath: ctx.paths.root,
    release: ctx.release,
    releasePath: ctx.releasePath,
    previousRelease: ctx.remote ? liveRelease(ctx.remote) : undefined,
    revision: ctx.source?.revision,
    user: ctx.run.user,
  };
}

/** A host as the configuration alone describes it: before it is contacted. */
export const selectedRunContext = (
  application: string,
  user: string,
  s: { alias: string; host: { stage?: string; deploy_path: string } },
): RunContext => ({ application, host: s.alias, stage: s.host.stage, deployPath: s.host.deploy_path, user });

/**
 * What a step on this machine sees, once per run for all hosts: the hosts' aliases separated by
 * spaces, and every other value as the hosts have it (several distinct ones separated by spaces).
 */
export function localRunContext(hosts: readonly [RunContext, ...RunContext[]]): RunContext {
  const joined = (pick: (c: RunContext) => string | undefined) =>
    [...new Set(hosts.map(pick).filter((v): v is string => !!v))].join(' ') || undefined;
  const first = hosts[0];
  return {
    application: first.application,
    host: hosts.map((h) => h.host).join(' '),
    stage: joined((h) => h.stage),
    deployPath: joined((h) => h.deployPath),
    release: joined((h) => h.release),
    releasePath: joined((h) => h.releasePath),
    previousRelease: joined((h) => h.previousRelease),
    revision: joined((h) => h.revision),
    user: first.user,
    status: first.status,
    error: first.error,
  };
}
