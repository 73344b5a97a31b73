import { sh } from '../remote/sh.js';
import type { HostContext, Stage } from './types.js';

export const UNLOCKED_MARKER = '@@shipshape-unlocked ';

/**
 * `deploy unlock`: removes the lock whoever holds it, after printing the owner record so the
 * command can say whose lock it was. Only ever the lock's own two paths are removed.
 */
export const forceUnlock: Stage<HostContext> = {
  id: 'unlock',
  title: 'Remove the deploy lock',
  plan: ({ paths }) => [
    sh`if [ -d ${paths.lock} ]; then
  # Whose it was, first: the command prints it.
  printf '%s%s\n' ${UNLOCKED_MARKER} "$(tr -d '\n' < ${paths.lock}/owner.json 2>/dev/null)"
  rm -f ${paths.lock}/owner.json
  rmdir ${paths.lock}
fi`,
  ],
};
