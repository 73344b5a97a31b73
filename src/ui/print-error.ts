import { isDeployError, type ShownError } from '../definitions/errors.js';
import { createSanitiser, type Sanitiser } from './sanitise.js';

const isShown = (e: unknown): e is ShownError =>
  !!e &&
  typeof e === 'object' &&
  ['code', 'message', 'hint'].every((k) => typeof (e as never)[k] === 'string');

/** A bug's stack, as a DeployError or a host's result carries it. */
const stackOf = (e: ShownError): string | undefined => (isDeployError(e) ? e.trace : e.stack);

/**
 * The one place an error reaches a person: message, details, then what to do next, and with
 * `stack` (-v, and the log file) a bug's stack trace. The whole text goes through the sanitiser,
 * since messages quote server output, commands and paths.
 */
export function formatError(
  e: unknown,
  out: Sanitiser = createSanitiser(),
  o: { stack?: boolean } = {},
): string {
  if (!isDeployError(e) && !isShown(e)) return out.text(`error: ${(e as Error)?.message ?? String(e)}`);
  const lines = [`error ${e.code}: ${e.message}`];
  if (isDeployError(e, 'ECONFIG')) lines.push(...e.details.list.map((l) => `  ${l}`));
  lines.push(`hint: ${e.hint}`);
  const stack = o.stack ? stackOf(e) : undefined;
  if (stack) lines.push(stack);
  return out.text(lines.join('\n'));
}
