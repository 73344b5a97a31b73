import { EXIT } from '../definitions/exit-codes.js';

/**
 * What a second signal leaves behind on the hosts of a command that locks them: said on the way
 * out, since the run that knew it is gone and the hosts only tell the next one.
 */
export const LEFT_LOCKED =
  'exited without cleaning up the hosts: the deploy lock and an unfinished release may be left. The next deploy or rollback names a stale lock and the `deploy unlock` that removes it; the deploy after that removes the unfinished release.';

/**
 * Ctrl-C or SIGTERM aborts the run: the command stops what runs on the hosts and cleans up
 * (lock, incomplete release), then exits 130/143. A second signal exits at once, for when that
 * cleanup itself hangs on a dead connection, saying `leftBehind` when the command has one.
 */
export function interruptSignal(leftBehind?: string): AbortSignal {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (controller.signal.aborted) {
        if (leftBehind) process.stderr.write(`interrupted again by ${sig}: ${leftBehind}\n`);
        process.exit(sig === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
      }
      controller.abort(sig);
    });
  }
  return controller.signal;
}
