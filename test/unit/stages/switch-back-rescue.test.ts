import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { composeScript } from '../../../src/engine/compose.js';
import { configOnlyPersistence } from '../../../src/persistence/app-persistence.js';
import { releaseDir } from '../../../src/layout/paths.js';
import { recordManifest } from '../../../src/layout/release-files.js';
import { trashDir } from '../../../src/layout/trash.js';
import { quote } from '../../../src/remote/sh.js';
import { switchBack, type SwitchBackContext } from '../../../src/stages/rollback.js';
import { hostContext } from '../../support/stage-context.js';

const { config } = parseConfig(`application: a\nhosts:\n  web: {deploy_path: /srv/app}\n`, 'deploy.yml', {});
const [LIVE_BEFORE, LEFT] = ['20260101-000001', '20260101-000002'];
const EXPORT = 'exports/order 4711.csv';

let root: string | undefined;
afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = undefined;
});

/**
 * A host just after a failed step past the switch: LEFT is live, its list taken at its switch
 * (unless `listed` is false), and the app has written EXPORT into it since.
 */
function leftLive({ listed = true, ephemeral = [] as string[] } = {}) {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "switch-back it's-"));
  // A recipe's ephemeral paths (caches the app rewrites), as the deploy resolves them.
  const base = hostContext(config, root, { persistence: { ...configOnlyPersistence(config), ephemeral } });
  const { paths } = base;
  for (const r of [LIVE_BEFORE, LEFT]) {
    fs.mkdirSync(path.join(releaseDir(paths, r), 'exports'), { recursive: true });
    fs.writeFileSync(path.join(releaseDir(paths, r), 'index.php'), r);
  }
  fs.mkdirSync(paths.shared, { recursive: true });
  if (listed) expect(run(recordManifest(paths, releaseDir(paths, LEFT), LEFT).text).status).toBe(0);
  fs.symlinkSync(`releases/${LEFT}`, paths.current);
  fs.writeFileSync(path.join(releaseDir(paths, LEFT), EXPORT), 'order 4711, paid\n');
  const ctx: SwitchBackContext = {
    ...base,
    leaving: LEFT,
    previous: LIVE_BEFORE,
    releasePath: releaseDir(paths, LIVE_BEFORE),
    remove: true,
  };
  return { paths, ctx };
}

const run = (script: string) => spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });

/** The stage's commands as the executor sends them, then its notes as the reporter gets them. */
function switchBackOn(ctx: SwitchBackContext, commands = switchBack.plan(ctx)) {
  const r = run(composeScript([{ id: switchBack.id, commands }]).text);
  expect(r.status, r.stderr).toBe(0);
  const notes = switchBack.notes!({ exitCode: 0, stdout: r.stdout, stderr: r.stderr }, ctx).map(
    (n) => n.message,
  );
  return { notes };
}

describe('switching back off a release that was live (run by /bin/sh)', () => {
  it('moves what the app wrote into it to shared/.rescued/<release>/ and says so, then removes it through the trash', () => {
    const { paths, ctx } = leftLive();
    const { notes } = switchBackOn(ctx);
    expect(fs.readlinkSync(paths.current)).toBe(`releases/${LIVE_BEFORE}`);
    expect(fs.readFileSync(path.join(paths.shared, '.rescued', LEFT, EXPORT), 'utf8')).toBe(
      'order 4711, paid\n',
    );
    expect(fs.existsSync(releaseDir(paths, LEFT))).toBe(false);
    expect(fs.existsSync(path.join(paths.meta, 'manifests', `${LEFT}.list`))).toBe(false);
    expect(notes).toEqual([
      `release ${LEFT}: the app wrote 1 file(s) into it after it went live; moved to ${paths.shared}/.rescued/${LEFT}/ before removing it (point the app at a shared dir instead)`,
    ]);
    // As pruning does: by one rename into the trash, never `rm -rf` of the release itself.
    const plan = switchBack
      .plan(ctx)
      .map((c) => c.text)
      .join('\n');
    expect(plan).not.toContain(`rm -rf -- ${quote(releaseDir(paths, LEFT))}`);
    expect(plan).toContain(`__ss_remove_release ${LEFT} trash`);
    expect(plan).toContain(`nohup find ${quote(trashDir(paths))} -mindepth 1`);
  });

  it('keeps a release with no list from its switch, whole, and says why', () => {
    const { paths, ctx } = leftLive({ listed: false });
    const { notes } = switchBackOn(ctx);
    expect(fs.readlinkSync(paths.current)).toBe(`releases/${LIVE_BEFORE}`);
    expect(fs.readFileSync(path.join(releaseDir(paths, LEFT), EXPORT), 'utf8')).toBe('order 4711, paid\n');
    expect(fs.existsSync(path.join(paths.shared, '.rescued'))).toBe(false);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`release ${LEFT} was kept, not removed`);
    expect(notes[0]).toContain(`.deploy/manifests/${LEFT}.list`);
  });

  it('removes nothing while current still points at the release', () => {
    const { paths, ctx } = leftLive();
    // Everything after the switch, as if `current` had not moved.
    const { notes } = switchBackOn(ctx, switchBack.plan(ctx).slice(1));
    expect(fs.readlinkSync(paths.current)).toBe(`releases/${LEFT}`);
    expect(fs.readFileSync(path.join(releaseDir(paths, LEFT), EXPORT), 'utf8')).toBe('order 4711, paid\n');
    expect(notes).toEqual([]);
  });

  it('without remove (a failed health check: the release stays to be looked at) it plans no removal', () => {
    const { paths, ctx } = leftLive();
    const kept = { ...ctx, remove: false };
    expect(
      switchBack
        .plan(kept)
        .map((c) => c.text)
        .join('\n'),
    ).not.toContain('__ss_remove_release');
    switchBackOn(kept);
    expect(fs.readFileSync(path.join(releaseDir(paths, LEFT), EXPORT), 'utf8')).toBe('order 4711, paid\n');
  });

  it('does not rescue what the app wrote under its ephemeral paths (caches)', () => {
    const { paths, ctx } = leftLive({ ephemeral: ['exports'] });
    const { notes } = switchBackOn(ctx);
    expect(fs.existsSync(path.join(paths.shared, '.rescued'))).toBe(false);
    expect(fs.existsSync(releaseDir(paths, LEFT))).toBe(false);
    expect(notes).toEqual([]);
  });
});
