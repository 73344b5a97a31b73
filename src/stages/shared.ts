import path from 'node:path';
import { DeployError } from '../definitions/errors.js';
import { releaseDir } from '../layout/paths.js';
import { legacyManifestPath, manifestPath } from '../layout/release-files.js';
import { liveRelease } from '../layout/remote-state.js';
import { persistenceOf } from '../persistence/app-persistence.js';
import {
  planApplyUpdates,
  planPublicEntries,
  PUBLIC_ENTRIES,
  planPublicShare,
  readPublicReport,
  type PublicSharePlan,
} from '../persistence/public-share.js';
import { publicNotes } from '../persistence/public-notes.js';
import {
  MISSING_MARKER,
  parentsAreReal,
  planDroppedCheck,
  planMissingCheck,
  planSharedLinks,
  type SharedLinkPlan,
} from '../persistence/shared-links.js';
import { sharedNotes } from '../persistence/shared-notes.js';
import { markerLines } from '../remote/markers.js';
import { lines, sh, type ShellText } from '../remote/sh.js';
import { REMOTE_EXIT } from './exit-codes.js';
import { serverCopyName } from '../persistence/server-copy.js';
import { copyCommandFor, putsFor } from './put-hint.js';
import type { ReleaseContext, Stage } from './types.js';
import { modeFunction } from './writable.js';

/**
 * Settings: `recipe`, `shared_dirs`, `shared_files`, `public_dir`, `public_exclude` (the recipe's
 * lists, extended by deploy.yml). Links what must outlive the release from shared/, creates the
 * framework's skeleton there, and shares public_dir entry by entry. One script per host.
 */
const linkPlan = (ctx: ReleaseContext): SharedLinkPlan => {
  const p = persistenceOf(ctx);
  const live = liveRelease(ctx.remote);
  return {
    releasePath: ctx.releasePath,
    sharedRoot: ctx.paths.shared,
    dirs: p.shared_dirs,
    files: p.shared_files,
    // A dir's uploaded copy exists only where the upload seeded it (a first deploy); a file's only with seed_shared.
    seeded: new Set([...p.shared_dirs, ...p.seed_shared]),
    seededRecord: ctx.paths.seeded,
    liveReleasePath: live && live !== ctx.release ? releaseDir(ctx.paths, live) : undefined,
    liveManifest:
      live && live !== ctx.release
        ? {
            list: manifestPath(ctx.paths, live),
            tsv: legacyManifestPath(ctx.paths, live),
            asList: path.posix.join(ctx.paths.meta, 'live-manifest.from-tsv'),
          }
        : undefined,
  };
};

export const PLACED_MANIFEST = 'public-placed.tsv';

/** For the symlink phase: the shared files this release updates go into place just after the switch. */
export const applyPublicUpdates = (ctx: ReleaseContext): ShellText[] => {
  const pd = persistenceOf(ctx).public_dir;
  if (!pd) return [];
  return [
    planApplyUpdates({
      releasePath: ctx.releasePath,
      sharedRoot: ctx.paths.shared,
      release: ctx.release,
      publicDir: pd,
      placedManifest: path.posix.join(ctx.paths.meta, PLACED_MANIFEST),
    }),
  ];
};

/** Public files the upload left out because shared/ holds them already (source/upload-plan.ts). */
function alreadyPlaced(ctx: ReleaseContext, publicDir: string): Set<string> {
  const prefix = `${publicDir}/`;
  return new Set([...(ctx.upload?.placed?.keys() ?? [])].map((p) => p.slice(prefix.length)));
}

function publicPlan(ctx: ReleaseContext, publicDir: string): PublicSharePlan {
  const p = persistenceOf(ctx);
  const live = liveRelease(ctx.remote);
  return {
    release: ctx.release,
    releasePath: ctx.releasePath,
    sharedRoot: ctx.paths.shared,
    publicDir,
    exclude: p.public_exclude,
    entries: p.publicEntries,
    items: p.publicItems,
    alreadyPlaced: alreadyPlaced(ctx, publicDir),
    placedManifest: path.posix.join(ctx.paths.meta, PLACED_MANIFEST),
    liveReleasePath: live && live !== ctx.release ? releaseDir(ctx.paths, live) : undefined,
    liveRelease: live,
  };
}

export const shared: Stage = {
  id: 'shared',
  title: 'Link shared files and directories',
  plan: (ctx) => {
    const p = persistenceOf(ctx);
    return [
      ...planMissingCheck(linkPlan(ctx), REMOTE_EXIT.sharedMissing),
      modeFunction(p.writable),
      ...planSharedLinks(linkPlan(ctx)),
      ...planDroppedCheck(linkPlan(ctx)),
      // After the links: a skeleton made first would stop the first deploy seeding shared/ from the release.
      ...p.shared_skeleton.map((d) => {
        const at = path.posix.join(ctx.paths.shared, d);
        return sh`[ -d ${at} ] || { mkdir -p ${at} && __ss_mode ${at}; }`;
      }),
      ...p.ephemeral
        .filter((e) => !p.shared_dirs.some((d) => e === d || e.startsWith(`${d}/`)))
        .map((e) =>
          lines(parentsAreReal(ctx.releasePath, e), sh`mkdir -p ${path.posix.join(ctx.releasePath, e)}`),
        ),
      ...(p.public_dir ? planPublicShare(publicPlan(ctx, p.public_dir)) : []),
    ];
  },
  // The per-entry commands of public sharing: data that grows with public/, so not part of the script.
  input: (ctx) => {
    const pd = persistenceOf(ctx).public_dir;
    return { into: PUBLIC_ENTRIES, text: pd ? planPublicEntries(publicPlan(ctx, pd)) : '' };
  },
  notes: (o, ctx) => {
    const report = readPublicReport(o.stdout);
    const live = liveRelease(ctx.remote);
    const pd = persistenceOf(ctx).public_dir ?? 'public';
    return [
      ...sharedNotes(o.stdout, live),
      // Updates wait for the switch, which may still find one edited meanwhile: it tells the counts.
      ...(report ? publicNotes(report, pd, { counts: report.updated === 0 }) : []),
    ];
  },
  interpret: (o, ctx) => {
    if (o.exitCode !== REMOTE_EXIT.sharedMissing) return undefined;
    const files = markerLines(o.stdout, MISSING_MARKER);
    return new DeployError('ESHAREDMISSING', {
      host: ctx.alias,
      files: files.join(', '),
      dir: `${ctx.paths.shared}/`,
      list: files,
      puts: putsFor(ctx, files),
      copy: files.map((f) => copyCommandFor(ctx, f)),
      copies: files.map((f) => serverCopyName(f, ctx)).join(', '),
    });
  },
};
