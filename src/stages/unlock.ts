import { sh } from '../remote/sh.js';
import type { HostContext, Stage } from './types.js';

/** Removes the lock only if this run holds it (its token is in the owner record). */
export const unlock: Stage<HostContext> = {
  id: 'unlock',
  title: 'Release the deploy lock',
  plan: ({ paths, lockToken }) => [
    sh`if grep -qF ${lockToken} ${paths.lock}/owner.json 2>/dev/null; then rm -f ${paths.lock}/owner.json && rmdir ${paths.lock}; fi`,
  ],
};
