import path from 'node:path';
import { DeployError } from '../definitions/errors.js';
import { persistenceOf, type WritableSettings } from '../persistence/app-persistence.js';
import { markerLines } from '../remote/markers.js';
import { sh, type ShellText } from '../remote/sh.js';
import { REMOTE_EXIT } from './exit-codes.js';
import type { Stage } from './types.js';

/**
 * Settings: `writable_mode` (chmod | acl | chown | skip, default chmod), `writable_user` (for acl
 * and chown), `writable_recursive` (default false).
 *
 * Makes writable_dirs writable for the web server. Not recursive by default: a `chmod -R` over
 * shared storage walks every upload on every deploy and overrides modes users set on purpose.
 */

/** Defines `__ss_mode <path>...`, which applies the writable mode to the paths (and below them when recursive). */
export function modeFunction({ mode, user, recursive }: WritableSettings): ShellText {
  const r = recursive ? sh`-R ` : sh``;
  if (mode === 'chmod') return sh`__ss_mode() { chmod ${r}ug+rwX -- "$@"; }`;
  if (mode === 'chown') return sh`__ss_mode() { chown ${r}${user ?? ''} -- "$@"; }`;
  if (mode === 'acl') {
    const u = user ?? '';
    // Both the web server and the deploying user keep access; `d:` entries make new files inherit it.
    // Default (`d:`) entries exist only on directories: a shared file (an empty SQLite database) gets the plain ones.
    return sh`__ss_mode() {
  if ! command -v setfacl >/dev/null 2>&1; then echo 'writable_mode acl needs setfacl (apt-get install acl)' >&2; return 1; fi
  for __ss_at do
    if [ -d "$__ss_at" ]; then setfacl ${r}-m ${`u:${u}:rwX`} -m ${`d:u:${u}:rwX`} -m "u:$(id -un):rwX" -m "d:u:$(id -un):rwX" -- "$__ss_at" || return 1
    else setfacl -m ${`u:${u}:rw`} -m "u:$(id -un):rw" -- "$__ss_at" || return 1
    fi
  done
}`;
  }
  return sh`__ss_mode() { :; }`;
}

const DENIED_MARKER = '@@shipshape-writable-denied ';
const USER_MARKER = '@@shipshape-writable-user ';

/**
 * Defines `__ss_denied <path>...`, run when `__ss_mode` failed as a user other than root: chmod and
 * setfacl work only for a file's owner, chown not at all. It names what another user owns where the
 * paths resolve (the first such file below each when recursive), and exits with writableDenied.
 */
function deniedFunction({ recursive }: WritableSettings): ShellText {
  const depth = recursive ? sh`` : sh`-maxdepth 0 `;
  return sh`__ss_denied() {
  [ "$(id -u)" != 0 ] || return 1
  printf '%s%s\n' ${USER_MARKER} "$(id -un)"
  for __ss_at do
    __ss_real=$(realpath -e -- "$__ss_at") || continue
    __ss_other=$(find -H "$__ss_real" ${depth}! -user "$(id -u)" -print -quit 2>/dev/null) || :
    [ -z "$__ss_other" ] || printf '%s%s\t%s\t%s\n' ${DENIED_MARKER} "$(stat -c %U -- "$__ss_other")" "$__ss_other" "$__ss_at"
  done
  exit ${REMOTE_EXIT.writableDenied}
}`;
}

/** What `__ss_denied` found: the deploy user, and each path another user owns with the dir it was reached from. */
export function readDenied(stdout: string): {
  deployUser: string;
  denied: { owner: string; path: string; from: string }[];
} {
  const deployUser = markerLines(stdout, USER_MARKER)[0] ?? '?';
  const denied = markerLines(stdout, DENIED_MARKER).map((l) => {
    const [owner = '?', at = '', from = ''] = l.split('\t');
    return { owner, path: at, from };
  });
  return { deployUser, denied };
}

// Inside deploy_path, or inside where a shared dir resolves: an admin may make shared/storage a link
// to another disk. Only the shared dir itself counts, so a link inside it that leads elsewhere is refused.
const OUTSIDE = `BEGIN { n = split(ENVIRON["__ss_shared"], shared, "\\n") }
{ ok = index($0, ENVIRON["__ss_root"] "/") == 1; for (i = 1; i <= n; i++) if (shared[i] != "") ok = ok || $0 == shared[i] || index($0, shared[i] "/") == 1 }
!ok { print "refusing to change " $0 ": it is outside the deploy path" > "/dev/stderr"; bad = 1 }
END { exit bad }`;

export const writable: Stage = {
  id: 'writable',
  title: 'Make writable directories writable',
  plan: (ctx) => {
    const p = persistenceOf(ctx);
    if (p.writable_dirs.length === 0) return [];
    const root = ctx.paths.root;
    const dirs = p.writable_dirs.map((d) => path.posix.join(ctx.releasePath, d));
    const shared = p.shared_dirs.map((d) => path.posix.join(ctx.paths.shared, d));
    return [
      modeFunction(p.writable),
      deniedFunction(p.writable),
      // The dirs may be links into shared/ (that is the point), but never out of deploy_path; realpath -m
      // resolves them before mkdir, so an uploaded symlink cannot make us create or chmod anything outside.
      sh`__ss_root=$(cd ${root} && pwd -P)
__ss_shared=${shared.length ? sh`$(realpath -e -- ${shared} 2>/dev/null || :)` : sh`''`}
realpath -m -- ${dirs} | __ss_root="$__ss_root" __ss_shared="$__ss_shared" awk ${OUTSIDE}`,
      // One mkdir and one mode call for all: a fork per directory adds up on every deploy. Two
      // lines, not `mkdir && mode`: set -e ignores a failure left of `&&`.
      sh`mkdir -p -- ${dirs}
__ss_mode ${dirs} || __ss_denied ${dirs}`,
    ];
  },
  interpret: (o, ctx) => {
    if (o.exitCode !== REMOTE_EXIT.writableDenied) return undefined;
    const w = persistenceOf(ctx).writable;
    const { deployUser, denied } = readDenied(o.stdout);
    // Nothing another user owns: chmod or setfacl failed for another reason, which stderr tells.
    if (w.mode !== 'chown' && denied.length === 0) return undefined;
    return new DeployError('EWRITABLE', {
      host: ctx.alias,
      mode: w.mode,
      writableUser: w.user,
      recursive: w.recursive,
      deployUser,
      denied: denied.map((d) => ({
        path: d.path,
        owner: d.owner,
        link: d.from === d.path ? undefined : d.from,
      })),
    });
  },
};
