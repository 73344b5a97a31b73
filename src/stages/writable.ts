import path from 'node:path';
import { persistenceOf, type WritableSettings } from '../persistence/app-persistence.js';
import { lines, sh, type ShellText } from '../remote/sh.js';
import type { Stage } from './types.js';

/**
 * Settings: `writable_mode` (chmod | acl | chown | skip, default chmod), `writable_user` (for acl
 * and chown), `writable_recursive` (default false).
 *
 * Makes writable_dirs writable for the web server. Not recursive by default: a `chmod -R` over
 * shared storage walks every upload on every deploy and overrides modes users set on purpose.
 */

/** Defines `__ss_mode <path>`, which applies the writable mode to one path (and below it when recursive). */
export function modeFunction({ mode, user, recursive }: WritableSettings): ShellText {
  const r = recursive ? sh`-R ` : sh``;
  if (mode === 'chmod') return sh`__ss_mode() { chmod ${r}ug+rwX "$1"; }`;
  if (mode === 'chown') return sh`__ss_mode() { chown ${r}${user ?? ''} "$1"; }`;
  if (mode === 'acl') {
    const u = user ?? '';
    // Both the web server and the deploying user keep access; `d:` entries make new files inherit it.
    return sh`__ss_mode() { if ! command -v setfacl >/dev/null 2>&1; then echo 'writable_mode acl needs setfacl (apt-get install acl)' >&2; return 1; fi; setfacl ${r}-m ${`u:${u}:rwX`} -m ${`d:u:${u}:rwX`} -m "u:$(id -un):rwX" -m "d:u:$(id -un):rwX" "$1"; }`;
  }
  return sh`__ss_mode() { :; }`;
}

export const writable: Stage = {
  id: 'writable',
  title: 'Make writable directories writable',
  plan: (ctx) => {
    const p = persistenceOf(ctx);
    if (p.writable_dirs.length === 0) return [];
    const root = ctx.paths.root;
    return [
      modeFunction(p.writable),
      // The dirs may be links into shared/ (that is the point), but never out of deploy_path.
      sh`__ss_root=$(cd ${root} && pwd -P)`,
      ...p.writable_dirs.map((d) => {
        const at = path.posix.join(ctx.releasePath, d);
        return lines(
          // realpath -m before mkdir: an uploaded symlink must not make us create anything outside.
          sh`__ss_real=$(realpath -m -- ${at}) && case "$__ss_real" in "$__ss_root"/*) ;; *) printf 'refusing to change %s: it resolves to %s, outside %s\n' ${d} "$__ss_real" ${root} >&2; false ;; esac && mkdir -p "$__ss_real" && __ss_mode "$__ss_real"`,
        );
      }),
    ];
  },
};
