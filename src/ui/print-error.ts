import { isDeployError } from '../definitions/errors.js';
import { createSanitiser, type Sanitiser } from './sanitise.js';

/** An error as a result carries it (a host's outcome, a JSON result): code, message, hint. */
export interface ErrorShape {
  code: string;
  message: string;
  hint: string;
}

const isShape = (e: unknown): e is ErrorShape =>
  !!e &&
  typeof e === 'object' &&
  ['code', 'message', 'hint'].every((k) => typeof (e as never)[k] === 'string');

/**
 * The one place an error reaches a person: message, details, then what to do next. The whole
 * text goes through the sanitiser, since messages quote server output, commands and paths.
 */
export function formatError(e: unknown, out: Sanitiser = createSanitiser()): string {
  if (!isDeployError(e) && !isShape(e)) return out.text(`error: ${(e as Error)?.message ?? String(e)}`);
  const lines = [`error ${e.code}: ${e.message}`];
  if (isDeployError(e, 'ECONFIG')) lines.push(...e.details.list.map((l) => `  ${l}`));
  lines.push(`hint: ${e.hint}`);
  return out.text(lines.join('\n'));
}
