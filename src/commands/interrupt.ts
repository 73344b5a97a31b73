import { EXIT } from '../definitions/exit-codes.js';

/**
 * Ctrl-C or SIGTERM aborts the run: the command stops what runs on the hosts and cleans up
 * (lock, incomplete release), then exits 130/143. A second signal exits at once, for when that
 * cleanup itself hangs on a dead connection.
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (controller.signal.aborted) process.exit(sig === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
      controller.abort(sig);
    });
  }
  return controller.signal;
}
