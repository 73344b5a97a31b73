import { sh } from '../remote/sh.js';
import { packTar } from '../source/tar.js';
import type { Stage } from './types.js';

export const upload: Stage = {
  id: 'upload',
  title: 'Upload the code',
  // --no-same-owner: files belong to the deploying user, not to uid 0 from the archive.
  plan: (ctx) => [sh`tar -x --no-same-owner -p -f - -C ${ctx.releasePath}`],
  stdin: (ctx) =>
    packTar(
      ctx.source.root,
      ctx.source.entries,
      ctx.source.revision ? [{ path: 'REVISION', content: `${ctx.source.revision}\n` }] : [],
    ),
};
