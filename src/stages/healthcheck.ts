import type { Healthcheck } from '../config/hooks-schema.js';
import { sh } from '../remote/sh.js';
import type { ReleaseContext, Stage } from './types.js';

/**
 * A `command` health check, retried on the host inside one script so retries cost no extra
 * round trips. `timeout` bounds each attempt; the last attempt's output is what the user sees.
 * timeout(1) needs a program to run, so the command reaches that shell on a pipe (printf is a
 * builtin) and is `eval`ed there: it is never a process's argument (see userCommand).
 */
export function healthcheckStage(check: Healthcheck & { command: string }): Stage {
  return {
    id: 'healthcheck',
    title: 'Check the new release',
    plan: (ctx: ReleaseContext) => {
      const out = `${ctx.paths.meta}/healthcheck.${ctx.release}.out`;
      return [
        sh`__ss_attempt() {
  (cd ${ctx.releasePath} && printf '%s' ${check.command} | timeout ${check.timeout} /bin/sh -c 'eval "$(cat)"') > ${out} 2>&1
}
__n=0
while :; do
  __code=0
  __ss_attempt || __code=$?
  if [ "$__code" = 0 ]; then rm -f ${out}; break; fi
  __n=$((__n + 1))
  # Out of retries: the last attempt's output is what the user sees.
  if [ "$__n" -gt ${check.retries} ]; then
    printf 'health check exited %s after %s attempt(s):\n' "$__code" "$__n" >&2
    tail -n 20 ${out} >&2
    rm -f ${out}
    exit 1
  fi
  sleep ${check.interval}
done`,
      ];
    },
  };
}
