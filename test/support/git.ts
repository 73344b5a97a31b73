import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * git in a test repository, with an identity and without the machine's own configuration: a
 * developer's global excludes file or hooks must not change what a test sees.
 */
export function gitIn(dir: string, env: NodeJS.ProcessEnv = {}) {
  const run = (...args: string[]): string =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...isolatedGitEnv(dir), ...env },
    }).trim();
  return {
    run,
    init: () => run('init', '-q', '-b', 'main'),
    commitAll: (message: string) => {
      run('add', '-A');
      run('commit', '-q', '--allow-empty', '-m', message);
      return run('rev-parse', 'HEAD');
    },
  };
}

/** A global git configuration of the test's own (none by default), so the machine's cannot leak in. */
export function isolatedGitEnv(dir: string, globalConfig = ''): NodeJS.ProcessEnv {
  const file = path.join(path.dirname(dir), `.gitconfig-${path.basename(dir)}`);
  if (!fs.existsSync(file) || globalConfig) fs.writeFileSync(file, globalConfig);
  return { GIT_CONFIG_GLOBAL: file, GIT_CONFIG_NOSYSTEM: '1' };
}
