import path from 'node:path';
import type { DeployPaths } from './paths.js';
import { lines, sh, type ShellText } from '../remote/sh.js';
import { spareFiles, spareTree } from './spare.js';
import { manifestDir } from './upload-manifests.js';
import { readCurrentRelease } from './current-link.js';
import { MANIFEST_FILES, RECORD } from './release-files.js';

/** The live release's files as the probe's find saw them, in the manifest's records (deploy only). */
const liveFiles = (paths: DeployPaths): string => path.posix.join(paths.meta, 'live-files.list');

/** Listings the probe sent, kept by their sha256 so that the next probe can send only what changed. */
export const listingDir = (paths: DeployPaths): string => path.posix.join(paths.meta, 'listings');

/** References kept: one per machine that deploys here, for a few machines taking turns. */
const KEPT_LISTINGS = 3;

/** What the deploying machine holds (source/probe-cache.ts), named in the probe by digest. */
export interface HeldDigests {
  /** The listing this machine received last from this host and path. */
  listing?: string;
  /** Upload manifests this machine wrote or received. */
  manifests: readonly string[];
  /** Keep the listing sent now as the next reference (a deploy, under the lock; never a dry run). */
  keep: boolean;
}

/**
 * find prints every record itself (source/listing.ts) but a symlink's: its path and its target may
 * both hold any byte but NUL, so find writes their fields apart and awk joins them, the path's
 * length in bytes saying where the target starts. LC_ALL=C: length() counts bytes.
 */
const LINK_RECORDS = `BEGIN { RS = "\\0"; ORS = "\\0" }
{ f[(NR - 1) % 4] = $0 }
NR % 4 == 0 { print "l\\t" f[0] "\\t\\t\\t\\t" f[1] "\\t" length(f[2]) "\\t" f[2] f[3] }
END { if (NR % 4 != 0) exit 1 }`;

/**
 * Records only the reference has (`-`) and only the new listing has (`+`): comm marks the second
 * kind with a tab, which no record starts with (each starts with its type).
 */
const DELTA_MARKS = `s/^\\t/+/; t; s/^/-/`;

function helpers(paths: DeployPaths, held: HeldDigests): ShellText {
  const dir = listingDir(paths);
  return lines(
    sh`__ss_ref=${held.listing ?? ''} __ss_lsd=${dir}`,
    // Sorted records of DIR into OUT; non-zero when find could not read DIR whole. The same find
    // writes DIR's files as its manifest records them (layout/release-files.ts) to FILES, if given.
    sh`__ss_listing() {
  __ss_lf='f\\t%m\\t%s\\t%T@\\t%D:%i\\t%U\\t\\t%P\\0' __ss_lo='%y\\t%m\\t\\t\\t\\t%U\\t\\t%P\\0' __ss_ll='%m\\0%U\\0%P\\0%l\\0'
  (cd "$1" && find . -mindepth 1 \\( -type f -printf "$__ss_lf" \\( ${MANIFEST_FILES} -fprintf "\${3:-/dev/null}" ${RECORD} -o -true \\) \\) \\
    -o \\( -type l -fprintf "$2.links" "$__ss_ll" \\) -o -printf "$__ss_lo") > "$2.raw" 2> "$2.err" &&
    LC_ALL=C awk ${LINK_RECORDS} "$2.links" >> "$2.raw" &&
    LC_ALL=C sort -z "$2.raw" > "$2"
  __ss_lrc=$?
  rm -f "$2.raw" "$2.links"
  return $__ss_lrc
}`,
    // KIND DIR [keep [FILES]]: prints the KIND line, the listing's digest and either the listing or its
    // difference from the reference this machine named. The digest lets the other side check
    // what it put together; a garbled delta is refused there, never trusted.
    sh`__ss_send() {
  # Not under .deploy/: a dry run writes nothing there, and a host may not have it yet.
  __t=$(mktemp "\${TMPDIR:-/tmp}/shipshape-listing.XXXXXX") || return 1
  __ss_sr=1
  if __ss_listing "$2" "$__t" "$4"; then
    __ss_sr=0
    __d=$(sha256sum < "$__t") && __d=\${__d%% *}
    if [ -n "$__ss_ref" ] && [ -f "$__ss_lsd/$__ss_ref" ]; then
      printf '%s-delta\\t%s\\t%s\\t' "$1" "$__ss_ref" "$__d"
      LC_ALL=C comm -z -3 "$__ss_lsd/$__ss_ref" "$__t" | sed -z ${DELTA_MARKS} | gzip -1 | base64 -w0
    else
      printf '%s\\t%s\\t' "$1" "$__d"
      gzip -1 < "$__t" | base64 -w0
    fi
    printf '\\n'
    if [ "$3" = keep ] && mkdir -p "$__ss_lsd"; then
      # Kept as it is: read once by the next probe, which has no time to uncompress it.
      [ -f "$__ss_lsd/$__d" ] || { cp "$__t" "$__ss_lsd/.$__d.$$" && mv -f "$__ss_lsd/.$__d.$$" "$__ss_lsd/$__d"; }
      touch "$__ss_lsd/$__d"
      # Names are hex digests: ls is safe to read here.
      ls -1t "$__ss_lsd" | sed '1,${KEPT_LISTINGS}d' | (cd "$__ss_lsd" && xargs -r rm -f --)
    fi
  else
    # What find said, its first line: a directory the app made that the deploy user cannot read
    # is not missing tools, and the plan says which. The spare's output is offered only when whole.
    [ "$1" != prev-tree ] || printf '%s-error\\t%s\\n' "$1" "$(head -c 400 "$__t.err" | head -n 1 | tr -d '\\t')"
  fi
  rm -f "$__t" "$__t.err"
  return $__ss_sr
}`,
  );
}

/**
 * Probe fragment: names the release `current` points to and sends back, in the same script,
 * what the upload plan needs of it: its upload manifest (only its digest when this machine holds
 * it), and the listing of what is really on disk, with `withSpare` the spare's too (each only as
 * its difference from the listing this machine holds, when the server still has that one). The
 * listing is what makes hard links safe: a path the shared stage turned into a symlink, or a file
 * the app rewrote, shows up as different from the manifest and is re-sent instead of trusted.
 *
 * Nothing here may fail the probe: a missing manifest or a listing that cannot be made leaves a
 * line out, and the deploy uploads in full.
 */
export function probePreviousRelease(
  paths: DeployPaths,
  withSpare: boolean,
  held?: HeldDigests,
  /** Given the file holding the probe's walk of the spare, true when the spare may be offered. */
  spareCheck?: (walked: ShellText) => ShellText,
): ShellText[] {
  const known = held ?? { manifests: [], keep: false };
  const dir = sh`${paths.releases}/"$__prev"`;
  const spare = spareTree(paths);
  const manifest = sh`${manifestDir(paths)}/"$__prev".json.gz`;
  // The spare is listed alongside the live release, in the background: two finds, two cores. Its
  // files go to "$__ss_sf" too, for the check that nothing was written into it since it was pruned:
  // kept by a deploy (the cleanup's clear reads them), a temporary file in a dry run.
  const spareFilesAt = known.keep
    ? sh`__ss_sf=${spareFiles(paths)}`
    : sh`__ss_sf=$(mktemp "\${TMPDIR:-/tmp}/shipshape-spare-files.XXXXXX")`;
  const listSpare = withSpare
    ? sh`${
        known.keep
          ? sh`
  rm -f ${spareFiles(paths)}`
          : sh``
      }
  if [ -d ${spare} ] && [ ! -L ${spare} ] && __ss_so=$(mktemp "\${TMPDIR:-/tmp}/shipshape-spare.XXXXXX") && ${spareFilesAt}; then
    __ss_send spare-tree ${spare} '' "$__ss_sf" > "$__ss_so" &
    __ss_sp=$!
  fi`
    : sh``;
  // A deploy goes on to its changes stage, which then compares these files with the manifest
  // instead of listing the live release again (layout/release-files.ts).
  const files = known.keep
    ? sh`
  __ss_ff=''; if mkdir -p ${paths.meta} 2>/dev/null; then __ss_ff=${liveFiles(paths)}; fi`
    : sh``;
  // The spare is offered to the plan only when it passes the caller's check (that nothing was
  // written into it since it was pruned): a dry run says what the deploy would do.
  const offerSpare = spareCheck
    ? sh`if [ -s "$__ss_so" ] && ${spareCheck(sh`"$__ss_sf"`)}; then cat "$__ss_so" || :; fi`
    : sh`cat "$__ss_so" || :`;
  const dropSpareFiles = known.keep
    ? sh``
    : sh`
  [ -z "$__ss_sf" ] || rm -f "$__ss_sf"`;
  const keptFiles = known.keep ? sh` "$__ss_ff" && __ss_files=$__ss_ff __ss_files_of=${dir}` : sh``;
  return [
    helpers(paths, known),
    sh`${readCurrentRelease(paths)}; __prev=$__cur
if [ -n "$__prev" ] && [ -d ${dir} ] && [ ! -L ${dir} ]; then
  printf 'prev-release\\t%s\\n' "$__prev"
  printf 'prev-uid\\t%s\\n' "$(id -u)"
  if [ -f ${manifest} ] && __md=$(sha256sum < ${manifest}); then
    __md=\${__md%% *}
    printf 'prev-manifest-digest\\t%s\\n' "$__md"
    case " "${known.manifests.join(' ')}" " in *" $__md "*) ;; *) printf 'prev-manifest\\t'; base64 -w0 < ${manifest} || :; printf '\\n' ;; esac
  fi
  __ss_sp='' __ss_so='' __ss_sf=''${listSpare}${files}
  { __ss_send prev-tree ${dir} ${known.keep ? 'keep' : ''}${keptFiles}; } || :
  if [ -n "$__ss_sp" ]; then wait "$__ss_sp" || :; ${offerSpare}; fi
  [ -z "$__ss_so" ] || rm -f "$__ss_so"${dropSpareFiles}
fi; true`,
  ];
}
