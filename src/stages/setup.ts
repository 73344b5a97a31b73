import { DeployError } from '../definitions/errors.js';
import { sh } from '../remote/sh.js';
import { REMOTE_EXIT } from './exit-codes.js';
import type { HostContext, Stage } from './types.js';

export const setup: Stage<HostContext> = {
  id: 'setup',
  title: 'Prepare the deploy path',
  plan: ({ paths }) => [
    // A real directory named `current` is someone's data; we refuse rather than replace it.
    sh`if [ -e ${paths.current} ] && [ ! -L ${paths.current} ]; then
  printf '%s exists and is not a symlink\n' ${paths.current} >&2
  exit ${REMOTE_EXIT.currentNotLink}
fi`,
    // .deploy/ holds the lock's owner record, the release log and the manifests: the deploy user's
    // alone. Not even the group: the app user usually shares it (for shared/), and it has no
    // business reading who deploys from where. Two lines, not `mkdir && chmod`: set -e ignores a
    // failure left of `&&`, and an uncreatable deploy_path would surface as the lock's error.
    sh`mkdir -p ${paths.releases} ${paths.shared} ${paths.meta}
chmod go-rwx ${paths.meta}`,
  ],
  interpret: (o, ctx) =>
    o.exitCode === REMOTE_EXIT.currentNotLink
      ? new DeployError('ECURRENT', { host: ctx.alias, path: ctx.paths.current })
      : undefined,
};
