import { sharedFiles } from '../config/schema.js';
import { DeployError } from '../definitions/errors.js';
import { MISSING_MARKER, planMissingCheck, planSharedLinks } from '../persistence/shared-links.js';
import { REMOTE_EXIT } from './exit-codes.js';
import type { ReleaseContext, Stage } from './types.js';

const linkPlan = (ctx: ReleaseContext) => ({
  releasePath: ctx.releasePath,
  sharedRoot: ctx.paths.shared,
  dirs: ctx.config.shared_dirs,
  files: sharedFiles(ctx.config),
});

export const shared: Stage = {
  id: 'shared',
  title: 'Link shared files and directories',
  plan: (ctx) => [
    ...planMissingCheck(linkPlan(ctx), REMOTE_EXIT.sharedMissing),
    ...planSharedLinks(linkPlan(ctx)),
  ],
  interpret: (o, ctx) => {
    if (o.exitCode !== REMOTE_EXIT.sharedMissing) return undefined;
    const files = o.stdout
      .split('\n')
      .filter((l) => l.startsWith(MISSING_MARKER))
      .map((l) => l.slice(MISSING_MARKER.length));
    const target = ctx.host.local
      ? `${ctx.paths.shared}/`
      : `${ctx.host.user ? `${ctx.host.user}@` : ''}${ctx.host.hostname ?? ctx.alias}:${ctx.paths.shared}/${files[0] ?? ''}`;
    return new DeployError('ESHAREDMISSING', {
      host: ctx.alias,
      files: files.join(', '),
      list: files,
      target,
    });
  },
};
