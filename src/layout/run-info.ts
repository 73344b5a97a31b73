import os from 'node:os';

export interface CiInfo {
  provider: string;
  job?: string;
  url?: string;
}

export interface RunInfo {
  user: string;
  machine: string;
  pid: number;
  started_at: string;
  command: string;
  ci?: CiInfo;
}

function readCiInfo(env: NodeJS.ProcessEnv): CiInfo | undefined {
  if (env.GITHUB_ACTIONS === 'true') {
    const url =
      env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
        ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
        : undefined;
    return { provider: 'github', job: env.GITHUB_RUN_ID, url };
  }
  if (env.GITLAB_CI) return { provider: 'gitlab', job: env.CI_JOB_ID, url: env.CI_JOB_URL };
  if (env.CI) return { provider: 'ci', job: env.BUILD_ID ?? env.JOB_ID, url: env.BUILD_URL };
  return undefined;
}

export function readRunInfo(
  command: string,
  env: NodeJS.ProcessEnv = process.env,
  now = new Date(),
): RunInfo {
  return {
    user: os.userInfo().username,
    machine: os.hostname(),
    pid: process.pid,
    started_at: now.toISOString(),
    command,
    ci: readCiInfo(env),
  };
}
