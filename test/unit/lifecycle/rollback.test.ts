import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { releaseDir } from '../../../src/layout/paths.js';
import type { ReleaseLogEntry, ReleaseStatus } from '../../../src/layout/release-log.js';
import { releaseRows } from '../../../src/engine/releases.js';
import { emptyRemoteState, type RemoteState } from '../../../src/layout/remote-state.js';
import { releasesToRemove } from '../../../src/layout/retention.js';
import { chooseRollbackTarget } from '../../../src/engine/rollback-target.js';
import { healthcheckStage } from '../../../src/stages/healthcheck.js';
import { revertRelease, rollbackSwitch, type RollbackContext } from '../../../src/stages/rollback.js';
import type { ReleaseContext } from '../../../src/stages/types.js';
import { formatReleases } from '../../../src/ui/releases-table.js';
import { hostContext } from '../../support/stage-context.js';

const [A, B, C, D] = ['20260101-000001', '20260101-000002', '20260101-000003', '20260101-000004'];
const entry = (name: string, status: ReleaseStatus): ReleaseLogEntry => ({
  name,
  status,
  started_at: '2026-01-01T00:00:00Z',
  user: 'ann',
  machine: 'laptop',
  revision: 'abc123',
  ci: { job: '77' },
});

function remote(statuses: Record<string, ReleaseStatus>, current?: string): RemoteState {
  const state = emptyRemoteState();
  state.releases = Object.keys(statuses).sort();
  state.log = Object.entries(statuses).map(([n, s]) => entry(n, s));
  state.history = new Map(state.log.map((e) => [e.name, e]));
  if (current) state.current = { kind: 'link', target: `releases/${current}`, release: current };
  return state;
}

describe('chooseRollbackTarget', () => {
  it('picks the newest success older than current by name, skipping failed and rolled-back ones', () => {
    const r = remote({ [A]: 'success', [B]: 'failed', [C]: 'rolled_back', [D]: 'success' }, D);
    expect(chooseRollbackTarget('web', r)).toEqual({ target: A, left: D });
  });

  it('never picks a newer release, even a successful one', () => {
    const r = remote({ [A]: 'success', [B]: 'success', [C]: 'success' }, B);
    expect(chooseRollbackTarget('web', r).target).toBe(A);
  });

  it('explains why there is nothing to roll back to, listing the candidates', () => {
    expect(() => chooseRollbackTarget('web', remote({ [A]: 'success', [B]: 'success' }, A))).toThrow(
      `web: no successful release older than ${A} to roll back to`,
    );
    expect(() => chooseRollbackTarget('web', remote({ [A]: 'success' }))).toThrow('nothing is live');
    try {
      chooseRollbackTarget('web', remote({ [A]: 'success', [B]: 'success' }, A));
    } catch (e) {
      expect((e as Error & { hint: string }).hint).toBe(`Candidates: ${B}`);
    }
  });

  it('--to refuses a failed or rolled-back release unless forced, and a missing or live one always', () => {
    const r = remote({ [A]: 'success', [B]: 'failed', [C]: 'success' }, C);
    expect(() => chooseRollbackTarget('web', r, { to: B })).toThrow(`release ${B} is failed; pass --force`);
    expect(chooseRollbackTarget('web', r, { to: B, force: true })).toEqual({ target: B, left: C });
    expect(() => chooseRollbackTarget('web', r, { to: D, force: true })).toThrow('does not exist');
    expect(() => chooseRollbackTarget('web', r, { to: C, force: true })).toThrow('already current');
  });

  it('--force never switches to a release that may be incomplete (started, or unknown to the log)', () => {
    const r = remote({ [A]: 'started', [B]: 'rolled_back', [D]: 'success' }, D);
    r.releases = [A, B, C, D];
    expect(() => chooseRollbackTarget('web', r, { to: A, force: true })).toThrow(
      `release ${A} is started and may be incomplete`,
    );
    expect(() => chooseRollbackTarget('web', r, { to: C, force: true })).toThrow(
      `release ${C} is not in the release log and may be incomplete`,
    );
    expect(chooseRollbackTarget('web', r, { to: B, force: true })).toEqual({ target: B, left: D });
  });
});

const { config } = parseConfig(`application: a\nhosts:\n  web: {deploy_path: /srv/app}\n`, 'deploy.yml', {});
// The rollback is run by someone else than the deploy it undoes: the log keeps who deployed.
const base = hostContext(config, "/srv/it's", {
  run: {
    user: 'bob',
    machine: 'box',
    pid: 1,
    started_at: '2026-01-02T00:00:00Z',
    command: 'deploy rollback',
  },
});
const { paths } = base;

describe('rollback stages', () => {
  it('switches with an atomic rename and marks the release left as rolled_back, keeping who deployed it', () => {
    const ctx: RollbackContext = {
      ...base,
      remote: remote({ [A]: 'success', [B]: 'success' }, B),
      target: A,
      left: B,
      releasePath: releaseDir(paths, A),
    };
    const [sw, log] = rollbackSwitch.plan(ctx).map((c) => c.text);
    expect(sw).toContain(`ln -s releases/${A} '/srv/it'\\''s/.current.${A}.tmp'\nmv -T`);
    expect(sw).not.toMatch(/ln -[a-z]*f/);
    const line = JSON.parse(log!.match(/'(\{.*\})' >>/)![1]!) as ReleaseLogEntry;
    expect(line).toMatchObject({ name: B, status: 'rolled_back', user: 'ann', revision: 'abc123' });
    expect(line.reason).toBe(`rolled back to ${A} by bob@box`);
  });

  it('a failed health check switches back to the previous release, or removes a first release’s link only if it is ours', () => {
    const ctx = {
      ...base,
      release: C,
      releasePath: releaseDir(paths, C),
      remote: emptyRemoteState(),
      source: { root: '/src', entries: [] },
      reason: 'health check failed',
    } as ReleaseContext & { reason: string; previous?: string };
    expect(revertRelease.plan({ ...ctx, previous: B })[0]!.text).toContain(`ln -s releases/${B}`);
    expect(revertRelease.plan(ctx)[0]!.text).toBe(
      `if [ "$(readlink '/srv/it'\\''s/current')" = releases/${C} ]; then rm -f '/srv/it'\\''s/current'; fi`,
    );
    expect(revertRelease.plan(ctx)[1]!.text).toContain('"status":"failed"');
  });

  it('a command health check retries on the host inside one command, each attempt bounded by timeout', () => {
    const stage = healthcheckStage({
      command: 'curl -fsS localhost/up',
      expect_status: 200,
      timeout: 3,
      retries: 2,
      interval: 0.5,
    });
    const ctx = { ...base, release: C, releasePath: releaseDir(paths, C) } as ReleaseContext;
    const [cmd, ...rest] = stage.plan(ctx).map((c) => c.text);
    expect(rest).toEqual([]);
    expect(cmd).toContain(
      `(cd '/srv/it'\\''s/releases/${C}' && printf '%s' 'curl -fsS localhost/up' | timeout 3 /bin/sh -c 'eval "$(cat)"')`,
    );
    expect(cmd).toContain('-gt 2 ]');
    expect(cmd).toContain('sleep 0.5');
  });
});

describe('retention', () => {
  it('five failed deploys in a row prune no successful release (keep_releases: 2)', () => {
    const statuses: Record<string, ReleaseStatus> = {
      '20260101-000001': 'success',
      '20260101-000002': 'success',
    };
    for (let i = 3; i <= 7; i++) statuses[`20260101-00000${i}`] = 'failed';
    const r = remote(statuses, '20260101-000002');
    expect(
      releasesToRemove({ releases: r.releases, history: r.history, keep: 2, protect: ['20260101-000002'] }),
    ).toEqual([]);
  });

  it('failed and rolled-back releases go once older than the newest kept success; unknown names never', () => {
    const r = remote({ [A]: 'success', [B]: 'failed', [C]: 'rolled_back', [D]: 'success' }, D);
    r.releases.push('20250101-000000');
    expect(releasesToRemove({ releases: r.releases, history: r.history, keep: 2, protect: [D] })).toEqual([
      B,
      C,
    ]);
  });

  it('never removes the rollback target: the release current pointed to before the deploy', () => {
    const r = remote({ [A]: 'success', [B]: 'success', [C]: 'success' }, A);
    expect(releasesToRemove({ releases: r.releases, history: r.history, keep: 1, protect: [C, A] })).toEqual([
      B,
    ]);
  });
});

describe('releases table', () => {
  it('shows status, absolute UTC and relative time, who, from where, revision; newest first', () => {
    const rows = releaseRows(remote({ [A]: 'success', [B]: 'rolled_back' }, A));
    const text = formatReleases(
      [{ host: 'web', releases: rows }],
      undefined,
      new Date('2026-01-01T03:00:00Z'),
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('web:');
    expect(lines[1]).toMatch(/^ {2}RELEASE\s+STATUS\s+WHEN\s+WHO\s+FROM\s+REVISION$/);
    expect(lines[2]).toMatch(
      new RegExp(
        `^  ${B}\\s+rolled back\\s+2026-01-01 00:00:00 UTC \\(3 hours ago\\)\\s+ann\\s+laptop, CI job 77\\s+abc123$`,
      ),
    );
    expect(lines[3]).toMatch(new RegExp(`^  ${A}\\s+current\\s`));
  });
});
