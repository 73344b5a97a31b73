import type { DeployError } from '../definitions/errors.js';
import type { PutFile, SetupLine } from '../stages/server-setup.js';

/** One host's answer to `deploy setup`: what it did and found, or why it could not. */
export type HostSetup =
  | { host: string; lines: SetupLine[]; error: DeployError }
  | {
      host: string;
      lines: SetupLine[];
      error?: undefined;
      /**
       * `deploy setup` for this host as it must be typed (with `-c` when deploy.yml is not the
       * default), putting the files named: the report's hints are complete commands.
       */
      setupFor: (files: readonly string[]) => string;
    };

const WIDTH = 9;

/** What `deploy setup` prints: per host, one line per thing done or found, then what is left. */
export function formatSetup(
  hosts: readonly HostSetup[],
  o: { how: string; puts: readonly PutFile[]; selector: readonly string[] },
): string {
  const out: string[] = [];
  const from = new Map(o.puts.map((p) => [`shared/${p.target}`, p.local]));
  for (const h of hosts) {
    out.push(`${h.host}:`);
    if (h.error) {
      out.push(`  ${'error'.padEnd(WIDTH)}${h.error.code}: ${h.error.message.split('\n')[0]}`, '');
      continue;
    }
    const { setupFor } = h;
    for (const l of h.lines) {
      const extra =
        (l.kind === 'put' || l.kind === 'replaced') && from.has(l.text)
          ? ` from ${from.get(l.text)}, ${o.how}`
          : '';
      const text =
        l.kind === 'missing' ? `shared/${l.text} (required): ${setupFor([l.text])}` : `${l.text}${extra}`;
      out.push(`  ${l.kind.padEnd(WIDTH)}${text}`);
    }
    const problems = h.lines.filter((l) => l.kind === 'problem').length;
    const missing = h.lines.filter((l) => l.kind === 'missing').length;
    out.push(
      problems
        ? `  ${problems} problem(s): fix them and run \`${setupFor([])}\` again`
        : missing
          ? `  ready except for ${missing} required shared file(s) listed above`
          : '  ready for the first deploy',
      '',
    );
  }
  return `${out.join('\n')}`;
}
