import path from 'node:path';
import { sh, type ShellText } from '../remote/sh.js';
import { AWK_ONE_LINE } from '../remote/awk-one-line.js';
import { manifestDir, manifestFile, manifestList, manifestPieces } from '../layout/upload-manifests.js';
import { fullPlan, type UploadPlan } from '../source/upload-plan.js';
import { KEPT_ON_SERVER, keptCheck } from '../source/kept-check.js';
import {
  linkBytes,
  manifestEntryName,
  manifestPiecesName,
  removalBytes,
  symlinkBytes,
  uploadHead,
  uploadStream,
} from '../source/upload-stream.js';
import { Readable } from 'node:stream';
import { fetchInput, fetchSteps, interpretFetch } from './upload-fetch.js';
import { releaseDir, seedFilePath } from '../layout/paths.js';
import { contentOf } from '../source/source-info.js';
import { planTakeSpare, takenSpare } from '../layout/spare.js';
import {
  defineSeedMove,
  planListAhead,
  seedRescue,
  seedRescueNotes,
  seedRescueRemoved,
  seedRescueReport,
  type SeedFiles,
} from '../persistence/rescue.js';
import { plannedSpare } from './pruning.js';
import type { ReleaseContext, Stage } from './types.js';

/**
 * Pieces the pool may hold before the unlisted ones are looked for: twice a manifest's (about one
 * per 64 entries) and some, so that a steady-state deploy, which adds a dozen, looks every few
 * dozen deploys rather than each time.
 */
const poolLimit = (ctx: ReleaseContext): number => 2 * Math.ceil(ctx.source.entries.length / 64) + 200;

/** The plan the engine chose for this host; a context built without one uploads everything. */
const planOf = (ctx: ReleaseContext): UploadPlan => ctx.upload ?? fullPlan(ctx.source.entries, 'none');

/**
 * Seeds the new release from the previous one: hard links (cheap, shared inodes), real
 * copies, or the spare renamed into place (its directories already exist).
 */
function seed(ctx: ReleaseContext, plan: UploadPlan): ShellText[] {
  // The probe offered the spare only if nothing was written into it since it was pruned.
  if (plan.seed === 'recycle')
    return [
      planTakeSpare(ctx.paths, ctx.release, ctx.releasePath, seedFile(ctx, 'spare')),
      defineSeedMove(ctx.paths, ctx.releasePath),
    ];
  if (plan.seed === 'empty' || !plan.base) return [];
  const from = `${releaseDir(ctx.paths, plan.base)}/.`;
  // cp goes on past a file it may not link or read (one the app owns, under fs.protected_hardlinks)
  // and fails at the end. The plan sends such files again, so its failures are no loss: the check
  // after the removals proves the release holds every file it keeps (seedCheck).
  const cp = plan.seed === 'link' ? sh`cp -al` : sh`cp -a`;
  return [sh`${cp} -- ${from} ${ctx.releasePath} 2> ${seedErrors(ctx)} || :`];
}

/** The seed's own files under .deploy/, gone once it is checked: `seed-<release>.<kind>`. */
const seedFile = (
  ctx: ReleaseContext,
  kind: 'err' | 'links' | 'spare' | 'removed' | 'relinked' | 'written',
): string => seedFilePath(ctx.paths, ctx.release, kind);
const seedErrors = (ctx: ReleaseContext): string => seedFile(ctx, 'err');

/** In a recycled spare, what tells apart what a process wrote into it since the probe read it. */
const seedFiles = (ctx: ReleaseContext): SeedFiles => ({
  walk: seedFile(ctx, 'spare'),
  removed: seedFile(ctx, 'removed'),
  relinked: seedFile(ctx, 'relinked'),
  links: seedFile(ctx, 'links'),
  out: seedFile(ctx, 'written'),
});

/**
 * Before the archive is extracted: the release must hold exactly the files and symlinks the plan
 * keeps, nothing more, nothing less. Nothing more: a symlink planted in the live release after it
 * was read (where the plan expects a directory) would let tar write outside the deploy path; it
 * is named and the deploy stops, nothing written. Nothing less: a file cp could not link is in
 * the release only if the plan sends it. Nothing else: each kept file with the size and mtime the
 * probe saw (source/kept-check.ts). The list of kept symlinks follows the link list on stdin.
 */
function seedCheck(ctx: ReleaseContext, plan: UploadPlan): ShellText[] {
  if (plan.seed === 'empty' || !plan.base) return [];
  const want = keptCheck(plan);
  const links = symlinkBytes(want.symlinks).length;
  const list = seedFile(ctx, 'links');
  const err = seedErrors(ctx);
  const mismatch = `the new release, seeded from ${plan.base}, does not hold exactly the ${want.count} files and links it keeps from it as the probe saw them; nothing was extracted into it`;
  // FILENAME, not NR == FNR: the list of kept symlinks is often empty.
  const unexpected = `${AWK_ONE_LINE}
BEGIN { RS = "\\0" } FILENAME == ARGV[1] { want[$0] = 1; next } !($0 in want) { print "  unexpected symlink: " one_line($0) }`;
  const { file, other, negative, fraction } = KEPT_ON_SERVER;
  const records = sh`find . -mindepth 1 ! -type d \\( -type f -printf ${file} -o -printf ${other} \\) |
    LC_ALL=C sed -z -e ${fraction} -e ${negative} | LC_ALL=C sort -z | sha256sum`;
  const same = sh`{ __ss_got=$(cd ${ctx.releasePath} && ${records}) && [ "\${__ss_got%% *}" = ${want.digest} ]; }`;
  // What changed on the server while this deploy ran: written after it took the lock.
  const changed = sh`find . -mindepth 1 -type f -newer ${path.posix.join(ctx.paths.lock, 'owner.json')} -printf '%P\\0'`;
  const changedLines = `${AWK_ONE_LINE}
BEGIN { RS = "\\0" } { print "  changed on the server since this deploy began: " one_line($0) }`;
  // In the spare, a process still running from its release may have written since the probe read
  // it: what it wrote moves to shared/.rescued/ and the check is made again, instead of the whole
  // release being discarded with it.
  const recycled = plan.seed === 'recycle';
  const files = seedFiles(ctx);
  const rescued = recycled ? seedRescue(ctx.releasePath, files) : undefined;
  const taken = takenSpare(ctx.paths, ctx.release);
  const done = recycled
    ? sh`rm -f ${list} ${err} ${files.walk} ${files.removed} ${files.relinked} ${files.out} ${`${files.out}.now`} ${taken.origin} ${taken.manifest}`
    : sh`rm -f ${list} ${err}`;
  return [
    sh`head -c ${links} > ${list}
if ! ${same}${rescued ? sh` && ! { ${rescued} && ${same}; }` : sh``}; then
  printf '%s\\n' ${mismatch} >&2
  (cd ${ctx.releasePath} && find . -mindepth 1 -type l -printf '%P\\0') | awk ${unexpected} ${list} - | head -n 10 >&2
  (cd ${ctx.releasePath} && ${changed} 2>/dev/null) | awk ${changedLines} | head -n 10 >&2
  tail -n 5 ${err} >&2 2>/dev/null || :${
    recycled
      ? sh`
  ${seedRescueReport(ctx.paths, true)}`
      : sh``
  }
  ${done}
  exit 1
fi${
      recycled
        ? sh`
${seedRescueReport(ctx.paths, false)}`
        : sh``
    }
${done}`,
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
  if (plan.seed === 'recycle') {
    const files = seedFiles(ctx);
    return [
      sh`head -c ${bytes} > ${files.removed}`,
      seedRescueRemoved(ctx.releasePath, files),
      sh`(cd ${ctx.releasePath} && xargs -0 -r rm -rf -- < ${files.removed})`,
    ];
  }
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
  const from = releaseDir(ctx.paths, plan.base);
  // In a recycled spare, the seed check's rescue tells these from what was written into it.
  if (plan.seed === 'recycle') {
    const list = seedFile(ctx, 'relinked');
    return [
      sh`head -c ${bytes} > ${list} && (cd ${from} && xargs -0 -r cp -al --parents -t ${ctx.releasePath} -- < ${list})`,
    ];
  }
  return [sh`head -c ${bytes} | { cd ${from} && xargs -0 -r cp -al --parents -t ${ctx.releasePath} --; }`];
}

/**
 * The cleanup's check of the release it will keep as the spare, listed on the other core while
 * the release is linked and switched; started once this stage's own walks of the tree are done.
 */
function listAhead(ctx: ReleaseContext): ShellText[] {
  const spare = plannedSpare(ctx);
  // The probe began it when it guessed the same release (planGuessListAhead).
  return spare && spare !== ctx.remote.listedAhead ? [planListAhead(ctx.paths, spare)] : [];
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
      ...seedCheck(ctx, plan),
      ...(plan.fetch
        ? [
            ...fetchSteps(ctx, plan.fetch),
            // The manifest is the archive's last entry: finding it proves the whole archive arrived.
            sh`mkdir -p ${dir} && mv -f -- ${inArchive} ${manifestFile(ctx.paths, ctx.release)}`,
          ]
        : [extract(ctx, plan), ...fileManifestPieces(ctx)]),
      // Manifests of releases that are gone (pruned, failed, removed by hand) go too, with their lists.
      sh`for __m in ${dir}/*.json.gz ${dir}/*.list; do
  __r=\${__m##*/}; __r=\${__r%.json.gz}; __r=\${__r%.list}
  if [ -f "$__m" ] && [ ! -d ${ctx.paths.releases}/"$__r" ]; then rm -f -- "$__m" || exit 1; fi
done`,
      ...(plan.fetch ? [] : [dropUnlistedPieces(ctx, poolLimit(ctx))]),
      ...listAhead(ctx),
    ];
  },
  // A host that pulls reads the lists and its bundle's URL; the bundle brings the rest.
  stdin: (ctx, onProgress) =>
    ctx.upload?.fetch
      ? Readable.from([uploadHead(ctx.upload), fetchInput(ctx.upload.fetch)])
      : uploadStream({
          onProgress,
          content: contentOf(ctx.source),
          plan: planOf(ctx),
          release: ctx.release,
          revision: ctx.source.revision,
          token: ctx.lockToken,
          cache: ctx.upload?.cache,
        }),
  interpret: (outcome, ctx) => (ctx.upload?.fetch ? interpretFetch(outcome, ctx) : undefined),
  notes: (o, ctx) => seedRescueNotes(o.stdout, ctx.paths.shared),
};

/**
 * Moves the manifest pieces the archive brought into the pool and their list (the archive's last
 * entry: finding it proves the whole archive arrived) beside the manifests, then puts the manifest
 * together from the pool in the list's order. A piece missing there (removed by hand) leaves this
 * release without a manifest rather than failing the deploy: the next deploy uploads in full, as
 * for any release without one.
 */
function fileManifestPieces(ctx: ReleaseContext): ShellText[] {
  const arrived = path.posix.join(ctx.releasePath, manifestPiecesName(ctx.lockToken));
  const pool = manifestPieces(ctx.paths);
  const list = manifestList(ctx.paths, ctx.release);
  const manifest = manifestFile(ctx.paths, ctx.release);
  // One simple command a line, so that errexit sees each fail (not on the left of an &&). The
  // archive always brings the head piece (it names the release): the glob is never empty. xargs,
  // not a read loop: dash reads a line a byte at a time. The names are hex digests.
  return [
    sh`[ -f ${arrived}/list ] || { echo 'the archive ended before its last entry' >&2; exit 1; }
[ -d ${pool} ] || mkdir -p ${pool}
mv -f -- ${arrived}/list ${list}
mv -f -t ${pool} -- ${arrived}/*
rmdir -- ${arrived}`,
    sh`(cd ${pool} && xargs cat -- < ${list} > ${manifest}) || rm -f -- ${manifest} ${list}`,
  ];
}

/**
 * Once the pool holds more than `limit` pieces, the ones no release's list names go. Read in one
 * go, and nothing is removed unless every list was read: a piece still named must stay.
 */
function dropUnlistedPieces(ctx: ReleaseContext, limit: number): ShellText {
  const dir = manifestDir(ctx.paths);
  const pool = manifestPieces(ctx.paths);
  const kept = path.posix.join(dir, `.listed.${ctx.lockToken}`);
  return sh`__n=0; for __p in ${pool}/*; do __n=$((__n + 1)); done
if [ "$__n" -gt ${String(limit)} ]; then
  (cd ${pool} && export LC_ALL=C && cat -- ${dir}/*.list > ${kept} && sort -u -o ${kept} ${kept} && ls | sort | comm -23 - ${kept} | xargs -r rm -f --) || :
  rm -f -- ${kept}
fi`;
}

// --no-same-owner: files belong to the deploying user, not to uid 0 from the archive.
// --no-unquote, first: GNU tar reads `-C a\b` as `-C ab` otherwise (a deploy_path with a
// backslash failed with "Cannot open"); it must come before the -C it applies to.
const extract = (ctx: ReleaseContext, plan: UploadPlan): ShellText =>
  plan.compression === 'gzip'
    ? sh`tar --no-unquote -x -z --no-same-owner -p -f - -C ${ctx.releasePath}`
    : sh`tar --no-unquote -x --no-same-owner -p -f - -C ${ctx.releasePath}`;
