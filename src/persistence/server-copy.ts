import type { Config, HostConfig } from '../config/schema.js';

/**
 * A local name for the server's copy of a shared file: `.env.production` for `.env` on a
 * production host. A name, not the developer's own `.env`: that one holds development values.
 */
export const serverCopyName = (
  file: string,
  host: { alias: string; host: Pick<HostConfig, 'stage'> },
): string => `${file}.${host.host.stage ?? host.alias}`;

/**
 * Warnings for server copies that the upload would carry: the hint for a missing shared file
 * suggests creating `.env.production` beside the project's files, and unless .gitignore or
 * `exclude` leaves it out, every release (and every host's) would hold production's secrets.
 * Only for files git does not track (or a source outside git): .gitignore then leaves them out, and
 * a committed one was put there on purpose.
 */
export function uploadedServerCopies(
  config: Pick<Config, 'hosts'>,
  sharedFiles: readonly string[],
  uploaded: ReadonlySet<string>,
): string[] {
  const hosts = Object.entries(config.hosts).map(([alias, host]) => ({ alias, host }));
  const names = new Map<string, string>();
  for (const f of sharedFiles) for (const h of hosts) names.set(serverCopyName(f, h), f);
  return [...names]
    .filter(([copy]) => uploaded.has(copy))
    .map(
      ([copy, f]) =>
        `${copy} is uploaded into the release: it is named as the server copy of shared/${f} that ` +
        '`deploy setup --put` reads. Add it to .gitignore (or list it under `exclude:` in deploy.yml) so that its values stay on your machine.',
    );
}
