import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { composeScript } from '../../../src/engine/compose.js';
import { missingReleases } from '../../../src/engine/missing-releases.js';
import { parseRemoteState } from '../../../src/layout/remote-state.js';
import { probeState } from '../../../src/stages/probe.js';
import { hostContext } from '../../support/stage-context.js';

const { config } = parseConfig('application: a\nhosts:\n  web: {deploy_path: /srv/app}\n', 'deploy.yml', {});

const line = (name: string, status: string) =>
  JSON.stringify({ name, status, started_at: '2026-01-01T00:00:00Z', user: 'ann', machine: 'laptop' });

/** The probe's read of the host state, run in /bin/sh against a deploy path with `releases` and `log`. */
function probeOf(releases: string[], log: string[]) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "probe log's "));
  for (const r of releases) fs.mkdirSync(path.join(root, 'releases', r), { recursive: true });
  fs.mkdirSync(path.join(root, '.deploy'), { recursive: true });
  fs.writeFileSync(path.join(root, '.deploy', 'releases.jsonl'), log.map((l) => `${l}\n`).join(''));
  const script = composeScript([{ id: 'probe', commands: probeState.plan(hostContext(config, root)) }]).text;
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
  fs.rmSync(root, { recursive: true, force: true });
  expect(r.status, r.stderr).toBe(0);
  return { stdout: r.stdout, state: parseRemoteState(r.stdout) };
}

describe('the probe reads the release log', () => {
  it('from the oldest release directory on: a log of a thousand deploys is not sent whole every time', () => {
    const old = Array.from({ length: 1000 }, (_, i) => `20250101-${String(100000 + i)}`);
    const log = [
      ...old.flatMap((n) => [line(n, 'started'), line(n, 'success')]),
      line('20260101-000001', 'started'),
      line('20260101-000001', 'success'),
      // Removed by hand: newer than the oldest directory, still named by the log.
      line('20260101-000002', 'success'),
      line('20260101-000003', 'started'),
      line('20260101-000003', 'failed'),
      line('20260101-000004', 'success'),
      '{"status":"success","name":"20250101-100000"}',
      'not json',
    ];
    const { stdout, state } = probeOf(['20260101-000001', '20260101-000003', '20260101-000004'], log);
    expect([...state.history.keys()].sort()).toEqual([
      '20250101-100000',
      '20260101-000001',
      '20260101-000002',
      '20260101-000003',
      '20260101-000004',
    ]);
    expect(state.history.get('20260101-000003')?.status).toBe('failed');
    expect(missingReleases(state)).toEqual(['20260101-000002']);
    // Lines shipshape did not write (name first) are sent as they are, damaged ones too.
    expect(state.badLogLines).toBe(1);
    expect(stdout.split('\n').filter((l) => l.startsWith('log\t'))).toHaveLength(8);
  });

  it('whole when no release directory is there', () => {
    const { state } = probeOf([], [line('20250101-000001', 'success'), line('20250101-000002', 'failed')]);
    expect([...state.history.keys()]).toEqual(['20250101-000001', '20250101-000002']);
  });
});
