import type { Config } from '../../src/config/schema.js';
import { deployPaths, releaseDir } from '../../src/layout/paths.js';
import { emptyRemoteState } from '../../src/layout/remote-state.js';
import type { HostContext, ReleaseContext } from '../../src/stages/types.js';

/** Who "ran" the deploy in unit tests of stage plans. */
const TEST_RUN = {
  user: 'ann',
  machine: 'laptop',
  pid: 42,
  started_at: '2026-01-01T00:00:00Z',
  command: 'deploy web',
};

/** What a stage plan sees for host `web` of `config` at deploy path `root`; `over` changes any of it. */
export function hostContext(config: Config, root: string, over: Partial<HostContext> = {}): HostContext {
  return {
    alias: 'web',
    host: config.hosts.web!,
    config,
    paths: deployPaths(root),
    run: TEST_RUN,
    lockToken: 't',
    ...over,
  };
}

/** hostContext with a release chosen and an empty host state and source. */
export function releaseContext(
  config: Config,
  root: string,
  release: string,
  over: Partial<ReleaseContext> = {},
): ReleaseContext {
  const host = hostContext(config, root);
  return {
    ...host,
    release,
    releasePath: releaseDir(host.paths, release),
    remote: emptyRemoteState(),
    source: { root: '/src', entries: [] },
    ...over,
  };
}
