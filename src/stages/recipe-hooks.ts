import { persistenceOf } from '../persistence/app-persistence.js';
import type { Hook, HookPoint } from '../persistence/recipe-schema.js';
import { markerLines } from '../remote/markers.js';
import { streamedCommand } from '../remote/script-stdin.js';
import { sh, type ShellText } from '../remote/sh.js';
import type { ReleaseContext, Stage } from './types.js';

const HOOK_MARKER = '@@shipshape-recipe-hook ';

/**
 * The recipe's own commands (e.g. Laravel's `storage:link`), run from this script until the
 * deploy.yml hook runner takes them over. Guarded by `command -v`, so a host without PHP skips
 * rather than fails; an optional hook's failure is a warning.
 */
function hookCommand(ctx: ReleaseContext, hook: Hook, forceOptional: boolean): ShellText {
  const guards: ShellText[] = [];
  if (hook.when_command_exists) guards.push(sh`command -v ${hook.when_command_exists} >/dev/null 2>&1`);
  if (hook.when_file_exists) guards.push(sh`[ -e ${`${ctx.releasePath}/${hook.when_file_exists}`} ]`);
  const guard = sh.join(guards, ' && ', sh`true`);
  const run = streamedCommand(hook.run, ctx.releasePath);
  const onFail =
    hook.optional || forceOptional
      ? sh`printf '%s%s %s\n' ${HOOK_MARKER} failed ${hook.id}`
      : sh`{ printf 'recipe hook %s failed\n' ${hook.id} >&2; false; }`;
  return sh`if ${guard}; then ${run} || ${onFail}; else printf '%s%s %s\n' ${HOOK_MARKER} skipped ${hook.id}; fi`;
}

export function recipeHooks(points: readonly HookPoint[], id = 'recipe-hooks'): Stage {
  return {
    id,
    title: `Run the recipe's ${points.join(', ')} commands`,
    streams: true,
    plan: (ctx) => {
      const p = persistenceOf(ctx);
      // After the switch, a failing hook cannot undo the deploy; it is reported instead.
      const optional = points.includes('after_symlink');
      return points.flatMap((point) => p.hooks[point].map((h) => hookCommand(ctx, h, optional)));
    },
    shown: (ctx) => points.flatMap((point) => persistenceOf(ctx).hooks[point].map((h) => h.run)),
    notes: (o) =>
      markerLines(o.stdout, HOOK_MARKER)
        .map((l) => l.split(' '))
        .map(([what, hookId]) => ({
          level: what === 'failed' ? ('warn' as const) : ('info' as const),
          message:
            what === 'failed'
              ? `recipe hook ${hookId} failed (optional; the deploy goes on)`
              : `recipe hook ${hookId} skipped: its command or file is not on the host`,
        })),
  };
}
