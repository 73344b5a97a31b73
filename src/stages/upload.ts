import path from 'node:path';
import { sh, type ShellText } from '../remote/sh.js';
import { manifestDir, manifestFile } from '../layout/upload-manifests.js';
import { fullPlan, type UploadPlan } from '../source/upload-plan.js';
import { linkBytes, manifestEntryName, removalBytes, uploadStream } from '../source/upload-stream.js';
import { releaseDir } from '../layout/paths.js';
import { contentOf } from '../source/source-info.js';
import { planTakeSpare } from '../layout/spare.js';
import type { ReleaseContext, Stage } from './types.js';

/** The plan the engine chose for this host; a context built without one uploads everything. */
const planOf = (ctx: ReleaseContext): UploadPlan => ctx.upload ?? fullPlan(ctx.source.entries, 'none');

/**
 * Seeds the new release from the previous one: hard links (cheap, shared inodes), real
 * copies, or the spare renamed into place (its directories already exist).
 */
function seed(ctx: ReleaseContext, plan: UploadPlan): ShellText[] {
  if (plan.seed === 'recycle') return [planTakeSpare(ctx.paths, ctx.releasePath)];
  if (plan.seed === 'empty' || !plan.base) return [];
  const from = `${releaseDir(ctx.paths, plan.base)}/.`;
  return [
    plan.seed === 'link' ? sh`cp -al -- ${from} ${ctx.releasePath}` : sh`cp -a -- ${from} ${ctx.releasePath}`,
  ];
}

/**
 * Every path about to be replaced is removed first, so tar creates a new inode instead of
 * writing into one the previous release shares. (`tar --unlink-first` would do it for files
 * but also tries to rmdir existing directories and fails on non-empty ones.) `head -c` reads
 * exactly the list's bytes and leaves the archive that follows on stdin for tar.
 */
function removals(ctx: ReleaseContext, plan: UploadPlan): ShellText[] {
  const bytes = removalBytes(plan).length;
  if (bytes === 0) return [];
  return [sh`head -c ${bytes} | { cd ${ctx.releasePath} && xargs -0 -r rm -rf --; }`];
}

/**
 * Kept files the recycled spare lacks, hard-linked from the previous release after the
 * removals (so no link lands on a path that still exists); `--parents` creates a missing
 * directory on the way. The list follows the removal list on stdin.
 */
function links(ctx: ReleaseContext, plan: UploadPlan): ShellText[] {
  const bytes = linkBytes(plan).length;
  if (bytes === 0 || !plan.base) return [];
  return [
    sh`head -c ${bytes} | { cd ${releaseDir(ctx.paths, plan.base)} && xargs -0 -r cp -al --parents -t ${ctx.releasePath} --; }`,
  ];
}

export const upload: Stage = {
  id: 'upload',
  title: 'Upload the code',
  plan: (ctx) => {
    const plan = planOf(ctx);
    const dir = manifestDir(ctx.paths);
    const inArchive = path.posix.join(ctx.releasePath, manifestEntryName(ctx.lockToken));
    return [
      ...seed(ctx, plan),
      ...removals(ctx, plan),
      ...links(ctx, plan),
      // --no-same-owner: files belong to the deploying user, not to uid 0 from the archive.
      plan.compression === 'gzip'
        ? sh`tar -x -z --no-same-owner -p -f - -C ${ctx.releasePath}`
        : sh`tar -x --no-same-owner -p -f - -C ${ctx.releasePath}`,
      // The manifest is the archive's last entry: finding it proves the whole archive arrived.
      sh`mkdir -p ${dir} && mv -f -- ${inArchive} ${manifestFile(ctx.paths, ctx.release)}`,
      // Manifests of releases that are gone (pruned, failed, removed by hand) go too.
      sh`for __m in ${dir}/*.json.gz; do __r=\${__m##*/}; __r=\${__r%.json.gz}; if [ -f "$__m" ] && [ ! -d ${ctx.paths.releases}/"$__r" ]; then rm -f -- "$__m" || exit 1; fi; done`,
    ];
  },
  stdin: (ctx, onProgress) =>
    uploadStream({
      onProgress,
      content: contentOf(ctx.source),
      entries: ctx.source.entries,
      plan: planOf(ctx),
      release: ctx.release,
      revision: ctx.source.revision,
      token: ctx.lockToken,
      cache: ctx.upload?.cache,
    }),
};
