import { DeployError, isDeployError } from '../definitions/errors.js';
import type { Mask } from '../config/secrets.js';

/** The one place an error reaches a person: message, details, then what to do next. */
export function formatError(e: unknown, mask: Mask = (t) => t): string {
  if (!isDeployError(e)) return mask(`error: ${(e as Error)?.message ?? String(e)}`);
  const lines = [`error ${e.code}: ${e.message}`];
  const list = (e as DeployError).details.list;
  if (Array.isArray(list) && e.code === 'ECONFIG') lines.push(...list.map((l) => `  ${String(l)}`));
  lines.push(`hint: ${e.hint}`);
  return mask(lines.join('\n'));
}
