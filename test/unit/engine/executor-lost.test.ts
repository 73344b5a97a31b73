import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { DeployError } from '../../../src/definitions/errors.js';
import { scriptMarkers } from '../../../src/engine/compose.js';
import { runStages } from '../../../src/engine/executor.js';
import { deployPaths } from '../../../src/layout/paths.js';
import type { Reporter } from '../../../src/engine/reporter.js';
import { sh } from '../../../src/remote/sh.js';
import type { ExecRequest, Transport } from '../../../src/remote/transport.js';
import type { HostContext, Stage } from '../../../src/stages/types.js';

const { config } = parseConfig(`application: a\nhosts:\n  web: {deploy_path: /srv/app}\n`, 'deploy.yml', {});
const ctx: HostContext = {
  alias: 'web',
  host: config.hosts.web!,
  config,
  paths: deployPaths('/srv/app'),
  run: { user: 'ann', machine: 'laptop', pid: 1, started_at: '2030-01-01T00:00:00Z', command: 'deploy' },
  lockToken: 't',
};
const stage = (id: string): Stage<HostContext> => ({ id, title: id, plan: () => [sh`true`] });
const quiet: Reporter = { stage: () => {}, log: () => {} } as unknown as Reporter;

/** A transport whose connection drops after the script announced `seen` stages. */
function droppingAfter(seen: string[]): Transport {
  return {
    kind: 'ssh',
    async exec({ script, onStderr }: ExecRequest) {
      // The markers of this run, as the script prints them: with the token the executor chose.
      const token = /@@shipshape-stage ([0-9a-f]+) /.exec(script.text)?.[1];
      for (const id of seen) onStderr?.(`${scriptMarkers(token).stage}${id}\n`);
      throw new DeployError('ECONNLOST', { host: 'web' });
    },
    async close() {},
  };
}

const lostIn = async (seen: string[], stages: string[]): Promise<DeployError> =>
  runStages({ alias: 'web', transport: droppingAfter(seen), reporter: quiet }, stages.map(stage), ctx).catch(
    (e: unknown) => e as DeployError,
  ) as Promise<DeployError>;

describe('a connection lost mid-script', () => {
  it('names the running stage and says current may have moved once a switching stage started', async () => {
    const e = await lostIn(['symlink', 'recipe-hooks'], ['symlink', 'recipe-hooks', 'unlock']);
    expect(e).toMatchObject({ code: 'ECONNLOST', during: { stage: 'recipe-hooks' } });
    expect(e.message).toBe('web: connection lost during stage `recipe-hooks`');
    expect(e.hint).toContain('may already point at the new release');
  });

  it('says current was not touched when no switching stage started', async () => {
    const e = await lostIn(['shared'], ['shared', 'writable']);
    expect(e.message).toBe('web: connection lost during stage `shared`');
    expect(e.hint).toContain('was not touched');
    // The switch was planned in this script but never started.
    const before = await lostIn([], ['symlink']);
    expect(before.message).toBe('web: connection lost during stage `symlink`');
    expect(before.hint).toContain('was not touched');
  });
});
