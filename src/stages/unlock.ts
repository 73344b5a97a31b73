import { sh } from '../remote/sh.js';
import type { HostContext, Stage } from './types.js';

/**
 * Removes the lock only if this run holds it (its token is in the owner record). A run stopped
 * between the lock's mkdir and moving its owner record in leaves an empty lock and its own
 * record beside it: that lock is ours too (the SIGINT fault runs found it left behind).
 */
export const unlock: Stage<HostContext> = {
  id: 'unlock',
  title: 'Release the deploy lock',
  plan: ({ paths, lockToken }) => {
    const tmp = `${paths.meta}/lock-owner.${lockToken}`;
    return [
      sh`if grep -qF ${lockToken} ${paths.lock}/owner.json 2>/dev/null; then
  rm -f ${paths.lock}/owner.json
  rmdir ${paths.lock}
elif [ -f ${tmp} ]; then
  # Stopped between the lock's mkdir and moving our record in: that empty lock is ours too.
  rm -f ${tmp}
  [ -e ${paths.lock}/owner.json ] || rmdir ${paths.lock} 2>/dev/null || true
fi`,
    ];
  },
};
