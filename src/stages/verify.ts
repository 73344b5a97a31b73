import path from 'node:path';
import type { AppPersistence } from '../persistence/app-persistence.js';
import { casePattern, eachEntry } from '../persistence/each-entry.js';
import { releaseSharedTarget } from '../persistence/shared-links.js';
import { defineSayLine, markerLines } from '../remote/markers.js';
import { lines, sh, type ShellText } from '../remote/sh.js';
import type { HostContext, Stage } from './types.js';
import {
  CHANGE_MARKER,
  CHANGES_MARKER,
  UNCHECKED_MARKER,
  defineCheckRelease,
  readLiveRelease,
} from '../persistence/release-changes.js';

/**
 * `deploy verify`: the seed's verify_persistence.sh as a read-only check. Every check prints one
 * marker line (ok, fail or info) and the script itself always succeeds, so the command can list
 * every problem at once; the command, not the script, turns a failure into exit 1.
 */
const VERIFY_MARKER = '@@shipshape-verify ';

export type VerifyContext = HostContext & { persistence: AppPersistence };

const say = (status: 'ok' | 'fail' | 'info', label: ShellText | string): ShellText =>
  sh`printf '%s%s %s\n' ${VERIFY_MARKER} ${status} ${label}`;

const check = (test: ShellText, ok: string, fail: string): ShellText =>
  sh`if ${test}; then ${say('ok', ok)}; else ${say('fail', fail)}; fi`;

function planVerify(ctx: VerifyContext): ShellText[] {
  const { paths } = ctx;
  const p = ctx.persistence;
  const C = paths.current;
  const out: ShellText[] = [
    check(
      sh`[ -L ${C} ] && [ -d ${C}/ ]`,
      'current is a link to a release',
      `${C} is missing or not a link to a release`,
    ),
    sh`if [ ! -d ${C}/ ]; then exit 0; fi`,
    check(sh`[ -d ${paths.shared} ]`, `${paths.shared} exists`, `${paths.shared} is missing`),
  ];
  for (const d of p.shared_dirs) {
    const expected = releaseSharedTarget(paths, d);
    out.push(
      check(sh`[ -d ${path.posix.join(paths.shared, d)} ]`, `shared/${d} exists`, `shared/${d} is missing`),
      check(
        sh`[ -L ${path.posix.join(C, d)} ] && [ "$(readlink ${path.posix.join(C, d)})" = ${expected} ] && [ -e ${path.posix.join(C, d)} ]`,
        `current/${d} -> ${expected}`,
        `current/${d} is not a link to ${expected}`,
      ),
    );
  }
  for (const f of p.shared_files) {
    const expected = releaseSharedTarget(paths, f.path);
    const at = path.posix.join(C, f.path);
    out.push(
      f.optional
        ? sh`if [ -e ${path.posix.join(paths.shared, f.path)} ]; then ${check(
            sh`[ -L ${at} ] && [ "$(readlink ${at})" = ${expected} ]`,
            `current/${f.path} -> ${expected}`,
            `current/${f.path} is not a link to ${expected}`,
          )}; else ${say('info', `shared/${f.path} is absent (optional)`)}; fi`
        : check(
            sh`[ -L ${at} ] && [ "$(readlink ${at})" = ${expected} ] && [ -f ${at} ]`,
            `current/${f.path} -> ${expected}`,
            `current/${f.path} is not a link to an existing ${expected}`,
          ),
    );
  }
  out.push(...planInsideReleases(ctx), ...planLiveChanges(ctx));
  for (const d of p.shared_skeleton) {
    out.push(
      check(sh`[ -d ${path.posix.join(paths.shared, d)} ]`, `shared/${d} exists`, `shared/${d} is missing`),
    );
  }
  if (p.public_dir) out.push(...planPublicChecks(ctx, p.public_dir));
  const probes = p.writable_dirs.length
    ? p.writable_dirs
    : p.shared_dirs.includes('storage')
      ? ['storage/logs']
      : [];
  for (const w of probes) {
    const at = path.posix.join(C, w);
    out.push(
      // Writes a file and removes it again: as the deploy user, which the writable mode keeps in.
      sh`if [ -d ${at} ]; then
  __t=${at}/.shipshape-verify.$$
  if ( : > "$__t" ) 2>/dev/null && rm -f "$__t"; then ${say('ok', `${w} is writable`)}
  else ${say('fail', `${w} is not writable`)}
  fi
fi`,
    );
  }
  if (p.recipe === 'laravel' && p.public_dir) {
    const link = path.posix.join(C, p.public_dir, 'storage');
    out.push(
      sh`if [ -L ${link} ] && [ -e ${link} ]; then
  ${say('ok', 'Laravel storage link exists')}
elif ! command -v php >/dev/null 2>&1; then
  ${say('info', 'Laravel storage link absent: php is not on this host, so storage:link cannot run')}
else
  ${say('fail', `Laravel storage link ${p.public_dir}/storage is missing (run php artisan storage:link)`)}
fi`,
    );
  }
  return [lines(...out)];
}

/**
 * A shared path whose real file or directory lives inside a release, not in shared/: the app wrote
 * it there before the path was shared (the next deploy adopts it from the live release; in an
 * older release it is rescued when that release is pruned). Every release, not only current.
 */
function planInsideReleases(ctx: VerifyContext): ShellText[] {
  const p = ctx.persistence;
  const shared = [...p.shared_dirs, ...p.shared_files.map((f) => f.path)];
  if (shared.length === 0) return [];
  const notLinked =
    ' is a real file or directory inside the release, not a link into shared/: the app wrote it there (the next deploy moves it into shared/ if that release is live)';
  return [
    sh`for __r in ${ctx.paths.releases}/*; do
  [ -d "$__r" ] && [ ! -L "$__r" ] || continue
  for __p in ${shared}; do
    if { [ -e "$__r/$__p" ] || [ -L "$__r/$__p" ]; } && [ ! -L "$__r/$__p" ]; then
      printf '%s%s %s%s\n' ${VERIFY_MARKER} fail "releases/\${__r##*/}/$__p" ${notLinked}
    fi
  done
done`,
  ];
}

/** The same check a deploy makes before it starts: files changed in the live release since it went live. */
const CHANGES_TO_VERIFY = `index($0, changed) == 1 {
  rest = substr($0, length(changed) + 1); sp = index(rest, " ")
  print verify "fail releases/" live "/" substr(rest, sp + 1) " was " substr(rest, 1, sp - 1) " on the server since the release went live"
}
index($0, counts) == 1 {
  split(substr($0, length(counts) + 1), n, " ")
  print verify "info in all: " n[2] " changed, " n[3] " added, " n[4] " removed; the next deploy copies them to shared/.rescued/" live "/ (or stops, with release_changes: fail)"
}
index($0, unchecked) == 1 { print verify "fail the live release " live " could not be read whole to look for changes: " substr($0, length(unchecked) + 1) }`;

function planLiveChanges(ctx: VerifyContext): ShellText[] {
  const out = path.posix.join(ctx.paths.meta, 'verify-changes');
  return [
    defineCheckRelease(ctx.paths, ctx.persistence),
    readLiveRelease(ctx.paths),
    sh`if [ -n "$__ss_live" ]; then
  __ss_rc=0
  __ss_check_release "$__ss_live" mtime ${out}.$$ > ${out}.$$.report || __ss_rc=$?
  if [ "$__ss_rc" = 0 ]; then printf '%s%s %s\\n' ${VERIFY_MARKER} ok "the live release $__ss_live holds what was deployed (outside shared and writable paths)"
  else
    awk -v changed=${CHANGE_MARKER} -v counts=${CHANGES_MARKER} -v unchecked=${UNCHECKED_MARKER} \\
      -v verify=${VERIFY_MARKER} -v live="$__ss_live" ${CHANGES_TO_VERIFY} ${out}.$$.report
  fi
  rm -f ${out}.$$ ${out}.$$.report
fi`,
  ];
}

function planPublicChecks(ctx: VerifyContext, pd: string): ShellText[] {
  const { paths } = ctx;
  const S = path.posix.join(paths.shared, pd);
  const P = path.posix.join(paths.current, pd);
  const exclude = ctx.persistence.public_exclude;
  const prefix = path.posix.relative(path.posix.join(paths.releases, 'x', pd), S);
  const excluded = casePattern(exclude);
  return [
    check(sh`[ -d ${S} ]`, `shared/${pd} exists`, `shared/${pd} is missing`),
    check(
      sh`[ -d ${P} ] && [ ! -L ${P} ]`,
      `current/${pd} is a real directory of the release`,
      `current/${pd} is a link (the whole-directory layout); deploy again to split it into entries`,
    ),
    sh`__S=${S} __P=${P} __X=${prefix} __pd=${pd}
${defineSayLine(sh`__ss_say`, VERIFY_MARKER)}
__ss_links_into_shared() { case "$(readlink "$1")" in "$__X"/*) return 0 ;; *) return 1 ;; esac; }`,
    // Every entry of shared/<public_dir> is linked from current, except excluded names left there.
    eachEntry(
      sh`"$__S"`,
      sh`case "$__n" in
  .shared-exclusions) continue ;;
  ${excluded}) __ss_say info "shared/$__pd/$__n is an excluded name left in shared (not linked)"; continue ;;
esac
if [ -L "$__P/$__n" ] && [ "$(readlink "$__P/$__n")" = "$__X/$__n" ]; then __ss_say ok "current/$__pd/$__n -> $__X/$__n"
else __ss_say fail "current/$__pd/$__n is not a link to $__X/$__n"
fi`,
    ),
    // Every entry of current/<public_dir>: excluded ones are the release's own; the rest link into shared.
    eachEntry(
      sh`"$__P"`,
      sh`case "$__n" in
  ${excluded})
    if [ -L "$__p" ] && __ss_links_into_shared "$__p"; then
      __ss_say fail "current/$__pd/$__n is excluded but links into shared; it must be the release's own"
    else __ss_say ok "current/$__pd/$__n is the release's own"
    fi
    continue ;;
esac
if [ -e "$__S/$__n" ] || [ -L "$__S/$__n" ]; then continue; fi
if [ ! -L "$__p" ]; then __ss_say fail "current/$__pd/$__n is a real entry in the release, not a link into shared"
elif [ ! -e "$__p" ]; then __ss_say fail "current/$__pd/$__n is a broken link"
fi`,
    ),
  ];
}

export const verify: Stage<VerifyContext> = {
  id: 'verify',
  title: 'Verify the shared layout',
  plan: planVerify,
};

export interface VerifyLine {
  status: 'ok' | 'fail' | 'info';
  label: string;
}

export function readVerifyLines(stdout: string): VerifyLine[] {
  return markerLines(stdout, VERIFY_MARKER).map((body) => {
    const sp = body.indexOf(' ');
    return { status: body.slice(0, sp) as VerifyLine['status'], label: body.slice(sp + 1) };
  });
}
