import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { composeScript } from '../../../src/engine/compose.js';
import { deployPaths, releaseDir } from '../../../src/layout/paths.js';
import { PENDING_DIR } from '../../../src/layout/release-files.js';
import type { AppPersistence } from '../../../src/persistence/app-persistence.js';
import {
  planPublicEntries,
  planPublicShare,
  PUBLIC_ENTRIES,
  type PublicSharePlan,
} from '../../../src/persistence/public-share.js';
import { PLACED_MANIFEST } from '../../../src/stages/shared.js';
import { switchCurrent, symlink } from '../../../src/stages/symlink.js';
import type { ReleaseContext } from '../../../src/stages/types.js';
import { tmpDir, writeTree } from '../../support/project.js';
import { releaseContext } from '../../support/stage-context.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const { config } = parseConfig(`application: a\nhosts:\n  web: {deploy_path: /srv/app}\n`, 'deploy.yml', {});

function runSh(script: string, input = ''): { code: number; stdout: string } {
  try {
    return { code: 0, stdout: execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8', input }) };
  } catch (e) {
    const err = e as { status: number; stdout: string };
    return { code: err.status, stdout: err.stdout };
  }
}

/** The public counts line of a two-release deploy that changes one file. */
const counts = (updated: number, leftAlone: number) =>
  `public/: 0 file(s) added to shared, ${updated} updated, ${leftAlone} left alone (edited in shared), 0 unchanged`;

/** The shared stage's public sharing for one release whose public dir holds `files`. */
function sharePlan(root: string, release: string, files: Record<string, string>, publicDir = 'public') {
  const paths = deployPaths(root);
  const names = [...new Set(Object.keys(files).map((p) => p.split('/')[0]!))];
  const dirs = new Set(Object.keys(files).flatMap((p) => (p.includes('/') ? [p.split('/')[0]!] : [])));
  const plan: PublicSharePlan = {
    release,
    releasePath: releaseDir(paths, release),
    sharedRoot: paths.shared,
    publicDir,
    exclude: ['css'],
    entries: names.map((name) => ({ name, type: dirs.has(name) ? 'dir' : 'file' })),
    items: [
      ...[...dirs].map((d) => ({ path: d, type: 'dir' as const })),
      ...Object.entries(files).map(([p, c]) => ({ path: p, type: 'file' as const, sha256: sha(c) })),
    ],
    placedManifest: path.join(paths.meta, PLACED_MANIFEST),
  };
  return plan;
}

/** As the shared stage runs it: the per-entry commands as its input, read before the script's steps. */
function runShare(plan: PublicSharePlan) {
  const entries = planPublicEntries(plan);
  const input = { into: PUBLIC_ENTRIES, bytes: Buffer.byteLength(entries) };
  return runSh(composeScript([{ id: 'shared', commands: planPublicShare(plan), input }]).text, entries);
}

/** Two releases of one app: the second updates images/icon.svg, which waits in the release. */
function twoReleases() {
  const root = tmpDir('shipshape-pubswitch-');
  const [r1, r2] = ['20300101-000001', '20300101-000002'];
  fs.mkdirSync(path.join(root, '.deploy'), { recursive: true });
  fs.mkdirSync(path.join(root, 'shared'), { recursive: true });
  writeTree(path.join(root, 'releases', r1), { 'public/images/icon.svg': 'i1' });
  expect(runShare(sharePlan(root, r1, { 'images/icon.svg': 'i1' })).code).toBe(0);
  fs.symlinkSync(`releases/${r1}`, path.join(root, 'current'));
  writeTree(path.join(root, 'releases', r2), { 'public/images/icon.svg': 'i2' });
  expect(runShare(sharePlan(root, r2, { 'images/icon.svg': 'i2' })).code).toBe(0);
  const icon = () => fs.readFileSync(path.join(root, 'shared/public/images/icon.svg'), 'utf8');
  expect(icon()).toBe('i1');
  return {
    root,
    r1,
    r2,
    icon,
    ctx: releaseContext(config, root, r2, { persistence: { public_dir: 'public' } as AppPersistence }),
  };
}

const runSymlink = (ctx: ReleaseContext) =>
  runSh(composeScript([{ id: 'symlink', commands: symlink.plan(ctx) }]).text);

describe('shared public updates and the switch', () => {
  it('are applied after the rename over current, never before it', () => {
    const { ctx } = twoReleases();
    const texts = symlink.plan(ctx).map((c) => c.text);
    const rename = texts.indexOf(switchCurrent(ctx.paths, ctx.release).text);
    // The manifest, taken before the rename, names the pending paths only to leave them out.
    const apply = texts.findIndex((t) => t.includes(PENDING_DIR) && !t.includes('-printf'));
    expect(rename).toBeGreaterThanOrEqual(0);
    expect(apply).toBeGreaterThan(rename);
  });

  it('a switch that fails (current is a directory) leaves shared serving the old files', () => {
    const { root, r2, icon, ctx } = twoReleases();
    fs.rmSync(path.join(root, 'current'));
    fs.mkdirSync(path.join(root, 'current'));
    expect(runSymlink(ctx).code).toBe(65);
    expect(icon()).toBe('i1');
    expect(fs.existsSync(path.join(root, 'releases', r2, PENDING_DIR, 'public/images/icon.svg'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'shared/.history'))).toBe(false);
  });

  it('after the switch the update goes into place, the old version into .history', () => {
    const { root, r2, icon, ctx } = twoReleases();
    const r = runSymlink(ctx);
    expect(r.code).toBe(0);
    expect(fs.readlinkSync(path.join(root, 'current'))).toBe(`releases/${r2}`);
    expect(icon()).toBe('i2');
    expect(fs.readFileSync(path.join(root, `shared/.history/${r2}/public/images/icon.svg`), 'utf8')).toBe(
      'i1',
    );
    expect(fs.existsSync(path.join(root, 'releases', r2, PENDING_DIR))).toBe(false);
    // The shared stage held its counts back for the switch, which knows the update went in.
    expect(symlink.notes!({ exitCode: 0, stdout: r.stdout, stderr: '' }, ctx)).toEqual([
      { level: 'info', message: counts(1, 0) },
    ]);
  });

  it('a file edited in shared after the shared stage checked it is left alone at the switch, as a conflict', () => {
    const { root, r2, icon, ctx } = twoReleases();
    fs.writeFileSync(path.join(root, 'shared/public/images/icon.svg'), 'edited by a user');
    const r = runSymlink(ctx);
    expect(r.code).toBe(0);
    expect(fs.readlinkSync(path.join(root, 'current'))).toBe(`releases/${r2}`);
    expect(icon()).toBe('edited by a user');
    expect(fs.existsSync(path.join(root, `shared/.history/${r2}`))).toBe(false);
    expect(symlink.notes!({ exitCode: 0, stdout: r.stdout, stderr: '' }, ctx)).toEqual([
      { level: 'info', message: counts(0, 1) },
      {
        level: 'warn',
        message:
          "conflict: shared/public/images/icon.svg was edited on the server; kept it, the release's version is not live",
      },
    ]);
    // Not retried: nothing waits in the release, and the placed manifest still names the hash the
    // user's copy no longer has, so the next deploy that brings a new version sees the edit.
    expect(fs.existsSync(path.join(root, 'releases', r2, PENDING_DIR))).toBe(false);
    const placed = fs
      .readFileSync(path.join(root, '.deploy', PLACED_MANIFEST), 'utf8')
      .trim()
      .split('\n');
    expect(placed.at(-1)).toBe(`${sha('i1')}\timages/icon.svg`);
  });

  it('an update that cannot be placed after the switch is a warning, and shared keeps a whole file', () => {
    const { root, r2, icon, ctx } = twoReleases();
    fs.rmSync(path.join(root, 'releases', r2, PENDING_DIR, 'public/images/icon.svg'));
    const r = runSymlink(ctx);
    expect(r.code).toBe(0);
    expect(fs.readlinkSync(path.join(root, 'current'))).toBe(`releases/${r2}`);
    expect(icon()).toBe('i1');
    const notes = symlink.notes!({ exitCode: 0, stdout: r.stdout, stderr: '' }, ctx);
    expect(notes).toEqual([
      { level: 'info', message: counts(1, 0) },
      expect.objectContaining({
        level: 'warn',
        message: expect.stringContaining('shared/public/images/icon.svg could not be updated'),
      }),
    ]);
  });
});

/** An empty deploy path, and a directory outside it holding `files` that nothing may touch. */
function deployPathAndOutside(files: Record<string, string>): { root: string; outside: string } {
  const root = tmpDir('shipshape-pubparent-');
  const outside = tmpDir('shipshape-outside-');
  writeTree(outside, files);
  for (const dir of ['shared', '.deploy']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  return { root, outside };
}

describe('public_dir below a linked parent', () => {
  it('refuses a release whose public_dir has a symlinked parent, touching nothing outside', () => {
    const { root, outside } = deployPathAndOutside({ 'public/uploads/secret.txt': 'not ours' });
    const release = '20300101-000001';
    fs.mkdirSync(path.join(root, 'releases', release), { recursive: true });
    fs.symlinkSync(outside, path.join(root, 'releases', release, 'web'));
    const r = runShare(sharePlan(root, release, { 'uploads/secret.txt': 'not ours' }, 'web/public'));
    expect(r.code).not.toBe(0);
    expect(fs.readFileSync(path.join(outside, 'public/uploads/secret.txt'), 'utf8')).toBe('not ours');
    expect(fs.lstatSync(path.join(outside, 'public/uploads')).isDirectory()).toBe(true);
    expect(fs.existsSync(path.join(root, 'shared/web/public/uploads'))).toBe(false);
  });

  it('does not adopt from a live release whose public_dir has a symlinked parent', () => {
    const { root, outside } = deployPathAndOutside({ 'public/invoices/1.pdf': 'elsewhere' });
    const [live, release] = ['20300101-000001', '20300101-000002'];
    fs.mkdirSync(path.join(root, 'releases', live), { recursive: true });
    fs.symlinkSync(outside, path.join(root, 'releases', live, 'web'));
    writeTree(path.join(root, 'releases', release), { 'web/public/a.txt': 'a' });
    const plan = {
      ...sharePlan(root, release, { 'a.txt': 'a' }, 'web/public'),
      liveReleasePath: releaseDir(deployPaths(root), live),
      liveRelease: live,
    };
    expect(runShare(plan).code).toBe(0);
    expect(fs.lstatSync(path.join(outside, 'public/invoices')).isDirectory()).toBe(true);
    expect(fs.existsSync(path.join(root, 'shared/web/public/invoices'))).toBe(false);
  });
});
