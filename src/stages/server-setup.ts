import path from 'node:path';
import { Readable } from 'node:stream';
import { DeployError } from '../definitions/errors.js';
import type { AppPersistence, WritableSettings } from '../persistence/app-persistence.js';
import { hasRealParents } from '../persistence/shared-links.js';
import { markerLines } from '../remote/markers.js';
import { lines, sh, type ShellText } from '../remote/sh.js';
import { REMOTE_EXIT } from './exit-codes.js';
import type { HostContext, Stage } from './types.js';
import { modeFunction } from './writable.js';

/** A local file to place in shared/ (`--put LOCAL:SHARED_PATH`), read on this machine. */
export interface PutFile {
  /** As the user named it, for the report. */
  local: string;
  /** Relative to shared/. */
  target: string;
  content: Buffer;
}

export type SetupContext = HostContext & {
  persistence: AppPersistence;
  writable: WritableSettings;
  puts: readonly PutFile[];
  /** Replace files that exist (otherwise they are kept). */
  force: boolean;
};

const SETUP_MARKER = '@@shipshape-setup ';

type SetupKind = 'created' | 'exists' | 'put' | 'replaced' | 'kept' | 'ok' | 'problem' | 'missing';

export interface SetupLine {
  kind: SetupKind;
  text: string;
}

/**
 * How a put file may be read. The app reads `.env` and its kind as another user unless
 * writable_mode is `skip` (nothing is made writable for anyone else, so the app runs as the
 * deploy user): then 0600. Otherwise 0640, and the app user gets the read the mode needs:
 * `chmod` assumes it shares the deploy user's group, `acl` grants it by an ACL entry, `chown`
 * gives the file to its group (chown needs root anyway).
 */
export function putMode(w: WritableSettings): { mode: number; how: string } {
  if (w.mode === 'skip')
    return { mode: 0o600, how: 'mode 0600: the deploy user only (writable_mode skip: the app runs as it)' };
  if (w.mode === 'acl')
    return { mode: 0o640, how: `mode 0640 and an ACL entry: readable by ${w.user ?? '?'}` };
  if (w.mode === 'chown') return { mode: 0o640, how: `mode 0640: readable by the group of ${w.user ?? '?'}` };
  return {
    mode: 0o640,
    how: "mode 0640: readable by the deploy user's group, which writable_mode chmod expects the app to share",
  };
}

/** What gives the app user the read `putMode` promises, beyond the mode bits: an ACL entry or the group. */
export function grantRead(w: WritableSettings, file: string): ShellText | undefined {
  if (w.mode === 'acl' && w.user) return sh`setfacl -m ${`u:${w.user}:r`} -- ${file}`;
  if (w.mode === 'chown' && w.user) return sh`chgrp "$(id -gn ${w.user})" -- ${file}`;
  return undefined;
}

const say = (kind: SetupKind, text: ShellText | string): ShellText =>
  sh`printf '%s%s %s\n' ${SETUP_MARKER} ${kind} ${text}`;

/** A directory of the layout: made when missing, reported either way, a problem when it cannot be. */
const dir = (abs: string, label: string, mode?: ShellText): ShellText =>
  sh`if [ -d ${abs} ]; then ${say('exists', label)}
elif mkdir -p -- ${abs}${mode ? sh` && ${mode}` : sh``}; then ${say('created', label)}
else ${say('problem', `cannot create ${label}`)}
fi`;

function put(ctx: SetupContext, f: PutFile): ShellText {
  const target = path.posix.join(ctx.paths.shared, f.target);
  const parent = path.posix.dirname(target);
  const tmp = path.posix.join(parent, `.shipshape-put.${ctx.lockToken}`);
  const label = `shared/${f.target}`;
  const { mode } = putMode(ctx.writable);
  const grant = grantRead(ctx.writable, tmp) ?? sh`true`;
  const size = f.content.length;
  return lines(
    sh`__su_put=put`,
    // Written aside (mode 0600 from the start) and renamed: never half a file, never briefly
    // world-readable. -T: over a symlink to a directory, plain mv would put the file inside
    // that directory, outside shared/; -T replaces the link itself.
    sh`__su_write() {
  mkdir -p -- ${parent} && (umask 077 && head -c ${size} > ${tmp}) && [ $(wc -c < ${tmp}) -eq ${size} ] &&
    chmod ${mode.toString(8)} -- ${tmp} && ${grant} && mv -fT -- ${tmp} ${target}
}`,
    // The bytes of every put come on stdin, one file after another: each is read, placed or not.
    sh`if ! { ${hasRealParents(ctx.paths.shared, f.target)}; }; then
  head -c ${size} >/dev/null
  ${say('problem', `refusing to write ${label} through a symlink in shared/`)}
elif [ -d ${target} ] && [ ! -L ${target} ]; then
  head -c ${size} >/dev/null
  ${say('problem', `${label} is a directory; a file cannot replace it`)}
elif { [ -e ${target} ] || [ -L ${target} ]; } && [ ${ctx.force ? 1 : 0} = 0 ]; then
  head -c ${size} >/dev/null
  ${say('kept', `${label} (it exists; --force replaces it)`)}
else
  if [ -e ${target} ] || [ -L ${target} ]; then __su_put=replaced; fi
  if __su_write; then printf '%s%s %s\n' ${SETUP_MARKER} "$__su_put" ${label}
  else rm -f -- ${tmp}; ${say('problem', `could not write ${label}`)}
  fi
fi`,
  );
}

/**
 * The writable dirs in shared/ another user owns (an admin's `chown -R www-data shared/storage`):
 * chmod and setfacl work only for a file's owner, so every deploy would fail in the writable stage.
 * With writable_recursive, anything below them counts too. Root may change any file: not checked.
 */
function ownedByOthers(ctx: SetupContext): ShellText[] {
  const { paths, writable: w, persistence: p } = ctx;
  if (w.mode !== 'chmod' && w.mode !== 'acl') return [];
  const inShared = p.writable_dirs.filter((d) => p.shared_dirs.some((s) => d === s || d.startsWith(`${s}/`)));
  const depth = w.recursive ? sh`` : sh`-maxdepth 0 `;
  const chown = w.recursive ? sh`chown -R` : sh`chown`;
  // setfacl changes nothing, so needs no ownership, where the entries it would add are all there
  // (the ACLs an earlier deploy set, kept by the admin's chown). Not judged when recursive.
  const granted = w.mode === 'acl' && !w.recursive ? w.user : undefined;
  const unchanged = granted ? sh` && ! __su_granted "$__su_other" ${granted}` : sh``;
  const helper = granted
    ? [
        sh`__su_granted() {
  __su_me=$(id -un)
  __su_n=$(getfacl -cpE -- "$1" 2>/dev/null | grep -cxF -e "user:$2:rwx" -e "user:$__su_me:rwx" -e 'mask::rwx' \
    -e "default:user:$2:rwx" -e "default:user:$__su_me:rwx" -e 'default:mask::rwx') || :
  [ "$__su_n" = 6 ]
}`,
      ]
    : [];
  return [
    ...helper,
    ...inShared.map((d) => {
      const at = path.posix.join(paths.shared, d);
      // Recursive: what is named may be below the dir, the first file another user owns there.
      const what = w.recursive ? sh`"shared/"${d}" (at least $__su_other in it)"` : sh`"shared/"${d}`;
      return sh`if [ "$(id -u)" != 0 ] && [ -e ${at} ]; then
  __su_other=$(find -H ${at} ${depth}! -user "$(id -u)" -print -quit 2>/dev/null) || :
  if [ -n "$__su_other" ]${unchanged}; then
    __su_msg=${what}" is owned by $(stat -c %U -- "$__su_other"), not $(id -un): writable_mode "${w.mode}
    __su_msg="$__su_msg changes its permissions on every deploy, which only its owner may."
    ${say('problem', sh`"$__su_msg As root: "${chown}" $(id -un) -- "${at}`)}
  fi
fi`;
    }),
  ];
}

/**
 * `deploy setup`: prepares a server before its first deploy, and says what it found. Creates
 * the layout and the recipe's shared skeleton, checks that the deploy user can write the deploy
 * path and that writable_user exists, places `--put` files into shared/ (never over an existing
 * one without --force), and lists required shared files that are still missing (and that no
 * upload will seed). Every check is
 * reported, none stops the others; the command decides the exit code. Runs again unchanged.
 */
function planServerSetup(ctx: SetupContext): ShellText[] {
  const { paths, writable: w } = ctx;
  // A seed_shared file comes from the upload on the first deploy: not missing for the deploy.
  const seeded = new Set(ctx.persistence.seed_shared);
  const required = ctx.persistence.shared_files.filter((f) => !f.optional && !seeded.has(f.path));
  const writableChecks = [paths.root, paths.releases, paths.shared, paths.meta].map(
    (p) =>
      sh`if [ -w ${p} ]; then ${say('ok', `the deploy user can write ${p}`)}
else ${say('problem', sh`"$(id -un) cannot write "${p}`)}
fi`,
  );
  return [
    ...(w.mode === 'chown'
      ? [
          // chown gives a file away, which only root may: every deploy that makes a dir writable would fail.
          sh`if [ "$(id -u)" != 0 ]; then
  __su_msg="writable_mode chown needs the deploy user to be root (only root may give a file away), and $(id -un) is not:"
  __su_msg="$__su_msg use writable_mode acl with writable_user "${w.user ?? 'www-data'}" (docs/persistence.md, Setting up a real server)"
  ${say('problem', sh`"$__su_msg"`)}
fi`,
        ]
      : []),
    sh`if [ -e ${paths.current} ] && [ ! -L ${paths.current} ]; then
  printf '%s exists and is not a symlink\n' ${paths.current} >&2
  exit ${REMOTE_EXIT.currentNotLink}
fi`,
    dir(paths.root, paths.root),
    dir(paths.releases, 'releases/'),
    dir(paths.shared, 'shared/'),
    // The deploy user's alone, as a deploy leaves it (stages/setup.ts).
    dir(paths.meta, '.deploy/', sh`chmod go-rwx ${paths.meta}`),
    modeFunction(w),
    ...ctx.persistence.shared_skeleton.map((d) =>
      dir(
        path.posix.join(paths.shared, d),
        `shared/${d}/`,
        sh`__ss_mode ${path.posix.join(paths.shared, d)}`,
      ),
    ),
    ...writableChecks,
    ...(w.user && (w.mode === 'acl' || w.mode === 'chown')
      ? [
          sh`if id -u ${w.user} >/dev/null 2>&1; then ${say('ok', `writable_user ${w.user} exists`)}
else ${say('problem', `writable_user ${w.user} does not exist on this host`)}
fi`,
        ]
      : []),
    ...(w.mode === 'acl'
      ? [
          sh`if command -v setfacl >/dev/null 2>&1; then ${say('ok', 'setfacl is installed')}
else ${say('problem', 'writable_mode acl needs setfacl (apt-get install acl)')}
fi`,
        ]
      : []),
    ...ownedByOthers(ctx),
    ...ctx.puts.map((f) => put(ctx, f)),
    ...required.map((f) => {
      const at = path.posix.join(paths.shared, f.path);
      return sh`if [ ! -e ${at} ] && [ ! -L ${at} ]; then ${say('missing', f.path)}; fi`;
    }),
  ];
}

export const serverSetup: Stage<SetupContext> = {
  id: 'setup-server',
  title: 'Prepare the server',
  plan: planServerSetup,
  stdin: (ctx) => Readable.from([Buffer.concat(ctx.puts.map((f) => f.content))]),
  interpret: (o, ctx) =>
    o.exitCode === REMOTE_EXIT.currentNotLink
      ? new DeployError('ECURRENT', { host: ctx.alias, path: ctx.paths.current })
      : undefined,
};

export function readSetupLines(stdout: string): SetupLine[] {
  return markerLines(stdout, SETUP_MARKER).map((l) => {
    const space = l.indexOf(' ');
    return { kind: l.slice(0, space) as SetupKind, text: l.slice(space + 1) };
  });
}
