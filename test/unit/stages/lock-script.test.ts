import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { composeScript } from '../../../src/engine/compose.js';
import { lock } from '../../../src/stages/lock.js';
import { unlock } from '../../../src/stages/unlock.js';
import { tmpDir } from '../../support/project.js';
import { hostContext } from '../../support/stage-context.js';

const { config } = parseConfig(`application: a\nhosts:\n  web: {deploy_path: /srv/app}\n`, 'deploy.yml', {});

/** Runs a stage's plan with /bin/sh, as the executor would; `bin` goes first on PATH. */
function runPlan(commands: ReturnType<typeof lock.plan>, bin?: string): number {
  const script = composeScript([{ id: 'lock', commands }]).text;
  const env = { ...process.env, PATH: bin ? `${bin}:${process.env.PATH}` : process.env.PATH };
  try {
    execFileSync('/bin/sh', ['-c', script], { env, stdio: 'pipe' });
    return 0;
  } catch (e) {
    return (e as { status: number }).status;
  }
}

describe('lock script', () => {
  it('gives the lock back when its owner record cannot be moved in', () => {
    const root = tmpDir('shipshape-lock-');
    fs.mkdirSync(path.join(root, '.deploy'));
    const bin = tmpDir('shipshape-bin-');
    fs.writeFileSync(path.join(bin, 'mv'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });

    expect(runPlan(lock.plan(hostContext(config, root, { lockToken: 'tok-a' })), bin)).not.toBe(0);
    expect(fs.existsSync(path.join(root, '.deploy/lock'))).toBe(false);
    expect(fs.readdirSync(path.join(root, '.deploy'))).toEqual([]);

    // The next run is not blocked by an ownerless lock.
    expect(runPlan(lock.plan(hostContext(config, root, { lockToken: 'tok-b' })))).toBe(0);
    expect(fs.readFileSync(path.join(root, '.deploy/lock/owner.json'), 'utf8')).toContain('tok-b');
  });

  it('unlock clears the lock a run left ownerless (mkdir done, record still beside it), and only its own', () => {
    const root = tmpDir('shipshape-lock-');
    const meta = path.join(root, '.deploy');
    fs.mkdirSync(path.join(meta, 'lock'), { recursive: true });
    fs.writeFileSync(path.join(meta, 'lock-owner.tok-a'), '{}\n');

    expect(runPlan(unlock.plan(hostContext(config, root, { lockToken: 'tok-other' })))).toBe(0);
    expect(fs.existsSync(path.join(meta, 'lock'))).toBe(true);
    expect(runPlan(unlock.plan(hostContext(config, root, { lockToken: 'tok-a' })))).toBe(0);
    expect(fs.readdirSync(meta)).toEqual([]);
  });
});
