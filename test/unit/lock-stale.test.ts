import { describe, expect, it } from 'vitest';
import type { DeployError } from '../../src/definitions/errors.js';
import { deployPaths } from '../../src/layout/paths.js';
import { describeHolder, HOLDER_MARKER, isStale, lock } from '../../src/stages/lock.js';
import { REMOTE_EXIT } from '../../src/stages/exit-codes.js';
import type { HostContext } from '../../src/stages/types.js';

const ctx = {
  alias: 'web',
  paths: deployPaths('/srv/app'),
  run: { machine: 'here', user: 'me', pid: process.pid, started_at: '', command: 'deploy' },
  lockToken: 't',
} as unknown as HostContext;

// A pid that is certainly gone: above the kernel's pid_max.
const DEAD = 2 ** 22 + 1;

describe('stale locks', () => {
  it('is stale only when held from this machine by a process that is gone', () => {
    expect(isStale({ machine: 'here', pid: DEAD }, 'here')).toBe(true);
    expect(isStale({ machine: 'here', pid: process.pid }, 'here')).toBe(false);
    expect(isStale({ machine: 'elsewhere', pid: DEAD }, 'here')).toBe(false);
    expect(isStale({}, 'here')).toBe(false);
    expect(isStale(undefined, 'here')).toBe(false);
  });

  it('the lock stage’s ELOCKED says stale by the same rule `deploy lock status` uses', () => {
    for (const holder of [
      { machine: 'here', pid: DEAD, user: 'a' },
      { machine: 'here', pid: process.pid, user: 'a' },
    ]) {
      const stdout = `${HOLDER_MARKER}${JSON.stringify(holder)}\n`;
      const error = lock.interpret!({ exitCode: REMOTE_EXIT.locked, stdout, stderr: '' }, ctx);
      expect(error?.code).toBe('ELOCKED');
      expect((error as DeployError<'ELOCKED'>).details.stale).toBe(isStale(holder, 'here'));
    }
  });

  it('describes a holder whose owner record lacks fields without printing `undefined`', () => {
    const full = { user: 'ann', machine: 'laptop', pid: 42, started_at: '2024-05-01T10:00:00Z' };
    expect(describeHolder({ ...full, command: 'deploy web' })).toBe(
      'ann@laptop (pid 42, since 2024-05-01T10:00:00Z, `deploy web`)',
    );
    expect(describeHolder(full)).toBe(
      'ann@laptop (pid 42, since 2024-05-01T10:00:00Z, command not recorded)',
    );
    expect(describeHolder({ user: 'ann' })).toBe('ann (machine not recorded, command not recorded)');
    expect(describeHolder({ user: 'ann', machine: 'ci', ci: { job: '7' } })).toBe(
      'ann@ci (command not recorded, CI 7)',
    );
  });
});
