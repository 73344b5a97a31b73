import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PublicItem } from '../../../src/persistence/app-persistence.js';
import {
  planApplyUpdates,
  planPublicEntries,
  planPublicShare,
  PUBLIC_ENTRIES,
  readPublicReport,
  type PublicSharePlan,
} from '../../../src/persistence/public-share.js';
import { composeScript } from '../../../src/engine/compose.js';
import { tmpDir, writeTree } from '../../support/project.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Runs the planned commands with /bin/sh, as the executor would: one script, the entry commands as the stage's input. */
function run(plan: PublicSharePlan): { code: number; stdout: string } {
  const input = planPublicEntries(plan);
  const stage = { into: PUBLIC_ENTRIES, bytes: Buffer.byteLength(input) };
  const script = composeScript([{ id: 'shared', commands: planPublicShare(plan), input: stage }]).text;
  try {
    return { code: 0, stdout: execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8', input }) };
  } catch (e) {
    const err = e as { status: number; stdout: string };
    return { code: err.status, stdout: err.stdout };
  }
}

function fixture(files: Record<string, string>, exclude = ['css', 'index.php']) {
  const root = tmpDir('shipshape-public-');
  const release = '20300101-000000';
  const releasePath = path.join(root, 'releases', release);
  writeTree(releasePath, Object.fromEntries(Object.entries(files).map(([p, c]) => [`public/${p}`, c])));
  fs.mkdirSync(path.join(root, 'shared'), { recursive: true });
  fs.mkdirSync(path.join(root, '.deploy'), { recursive: true });
  const items: PublicItem[] = [];
  const dirs = new Set<string>();
  for (const [p, c] of Object.entries(files)) {
    items.push({ path: p, type: 'file', sha256: sha(c) });
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const d of dirs) items.push({ path: d, type: 'dir' });
  const names = [...new Set(Object.keys(files).map((p) => p.split('/')[0]!))];
  const plan: PublicSharePlan = {
    release,
    releasePath,
    sharedRoot: path.join(root, 'shared'),
    publicDir: 'public',
    exclude,
    entries: names.map((name) => ({ name, type: dirs.has(name) ? 'dir' : 'file' })),
    items,
    placedManifest: path.join(root, '.deploy/public-placed.tsv'),
  };
  return { root, plan, pub: path.join(releasePath, 'public'), shared: path.join(root, 'shared/public') };
}

describe('planPublicShare (run with /bin/sh on a temp tree)', () => {
  it('moves shareable entries into shared, links them, and leaves excluded ones in the release', () => {
    const { plan, pub, shared } = fixture({
      'uploads/a.jpg': 'A',
      'css/app.css': 'css',
      'index.php': '<?php',
      'robots.txt': 'robots',
    });
    const r = run(plan);
    expect(r.code).toBe(0);
    expect(fs.readlinkSync(path.join(pub, 'uploads'))).toBe('../../../shared/public/uploads');
    expect(fs.readlinkSync(path.join(pub, 'robots.txt'))).toBe('../../../shared/public/robots.txt');
    expect(fs.lstatSync(path.join(pub, 'css')).isDirectory()).toBe(true);
    expect(fs.lstatSync(path.join(pub, 'index.php')).isFile()).toBe(true);
    expect(fs.existsSync(path.join(shared, 'css'))).toBe(false);
    expect(readPublicReport(r.stdout)).toMatchObject({ added: 2, moved: ['uploads', 'robots.txt'] });
  });

  it('never executes or globs an entry name', () => {
    const evil = "$(touch pwned)'x";
    const { root, plan, pub } = fixture({ [`${evil}/f`]: 'x', '*': 'star', 'css/a': 'c' }, ['css', '*x']);
    const r = run(plan);
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(root, 'pwned'))).toBe(false);
    expect(fs.existsSync('pwned')).toBe(false);
    expect(fs.readlinkSync(path.join(pub, evil))).toBe(`../../../shared/public/${evil}`);
    expect(fs.readlinkSync(path.join(pub, '*'))).toBe('../../../shared/public/*');
    // `*x` is an exact name, not a pattern: `css` did not match it, and `*` was not excluded by it.
    expect(fs.lstatSync(path.join(pub, 'css')).isDirectory()).toBe(true);
  });

  it('keeps a file a user edited in shared and reports it as a conflict; updates an untouched one', () => {
    const first = fixture({ 'images/logo.svg': 'v1', 'images/icon.svg': 'i1' });
    expect(run(first.plan).code).toBe(0);
    fs.writeFileSync(path.join(first.shared, 'images/logo.svg'), 'edited by a user');

    // The next release changes both files.
    const release = '20300101-000001';
    const releasePath = path.join(first.root, 'releases', release);
    writeTree(releasePath, { 'public/images/logo.svg': 'v2', 'public/images/icon.svg': 'i2' });
    const r = run({
      ...first.plan,
      release,
      releasePath,
      items: [
        { path: 'images', type: 'dir' },
        { path: 'images/logo.svg', type: 'file', sha256: sha('v2') },
        { path: 'images/icon.svg', type: 'file', sha256: sha('i2') },
      ],
    });
    expect(r.code).toBe(0);
    const report = readPublicReport(r.stdout)!;
    expect(report).toMatchObject({ added: 0, updated: 1, leftAlone: 1, conflicts: ['images/logo.svg'] });
    // Until the switch, shared still serves the old version to the live release.
    expect(fs.readFileSync(path.join(first.shared, 'images/icon.svg'), 'utf8')).toBe('i1');
    execFileSync('/bin/sh', [
      '-c',
      planApplyUpdates({ ...first.plan, release, releasePath, publicDir: 'public' }).text,
    ]);
    expect(fs.existsSync(path.join(releasePath, '.shipshape-pending'))).toBe(false);
    expect(fs.readFileSync(path.join(first.shared, 'images/logo.svg'), 'utf8')).toBe('edited by a user');
    expect(fs.readFileSync(path.join(first.shared, 'images/icon.svg'), 'utf8')).toBe('i2');
    expect(
      fs.readFileSync(path.join(first.root, `shared/.history/${release}/public/images/icon.svg`), 'utf8'),
    ).toBe('i1');
  });

  it('warns about excluded names in shared and neither links nor deletes them', () => {
    const { plan, pub, shared } = fixture({ 'css/app.css': 'new css' });
    writeTree(shared, { 'css/app.css': 'frozen by the seed', 'uploads/u.jpg': 'user' });
    const r = run(plan);
    expect(r.code).toBe(0);
    expect(readPublicReport(r.stdout)!.excludedInShared).toEqual(['css']);
    expect(fs.readFileSync(path.join(shared, 'css/app.css'), 'utf8')).toBe('frozen by the seed');
    expect(fs.readFileSync(path.join(pub, 'css/app.css'), 'utf8')).toBe('new css');
    expect(fs.readlinkSync(path.join(pub, 'uploads'))).toBe('../../../shared/public/uploads');
  });

  it('adopts an entry the app created in the live release and links it in both releases', () => {
    const { root, plan, pub, shared } = fixture({ 'images/a.png': 'a' });
    const liveReleasePath = path.join(root, 'releases', '20200101-000000');
    writeTree(liveReleasePath, { 'public/invoices/1.pdf': 'invoice', 'public/css/x.css': 'old css' });
    const r = run({ ...plan, liveReleasePath, liveRelease: '20200101-000000' });
    expect(r.code).toBe(0);
    expect(readPublicReport(r.stdout)!.adopted).toEqual(['invoices']);
    expect(fs.readFileSync(path.join(shared, 'invoices/1.pdf'), 'utf8')).toBe('invoice');
    for (const dir of [pub, path.join(liveReleasePath, 'public')]) {
      expect(fs.readlinkSync(path.join(dir, 'invoices'))).toBe('../../../shared/public/invoices');
    }
    expect(fs.lstatSync(path.join(liveReleasePath, 'public/css')).isDirectory()).toBe(true);
  });

  it('a file of the live release in place of its link: the newer of it and shared’s is shared’s, the other kept', () => {
    const { root, plan, pub, shared } = fixture({ 'images/a.png': 'a' });
    const live = '20200101-000000';
    const liveReleasePath = path.join(root, 'releases', live);
    // sitemap.xml: the app's rename over its link, newer than shared's. feed.xml: shared's edited by
    // hand after the app's, so shared's wins and the app's is rescued.
    writeTree(shared, { 'sitemap.xml': 'old map', 'feed.xml': 'edited feed' });
    writeTree(liveReleasePath, { 'public/sitemap.xml': 'new map', 'public/feed.xml': 'app feed' });
    const at = (dir: string, name: string, s: number) => fs.utimesSync(path.join(dir, name), s, s);
    at(shared, 'sitemap.xml', 1_000);
    at(path.join(liveReleasePath, 'public'), 'sitemap.xml', 2_000);
    at(path.join(liveReleasePath, 'public'), 'feed.xml', 1_000);
    at(shared, 'feed.xml', 2_000);
    const r = run({ ...plan, liveReleasePath, liveRelease: live });
    expect(r.code).toBe(0);
    const report = readPublicReport(r.stdout)!;
    expect(report.replaced).toEqual(['sitemap.xml']);
    expect(report.rescued).toEqual([path.join(root, 'shared/.rescued', live, 'public/feed.xml')]);
    expect(fs.readFileSync(path.join(shared, 'sitemap.xml'), 'utf8')).toBe('new map');
    expect(fs.readFileSync(path.join(root, 'shared/.history', live, 'public/sitemap.xml'), 'utf8')).toBe(
      'old map',
    );
    expect(fs.readFileSync(path.join(shared, 'feed.xml'), 'utf8')).toBe('edited feed');
    expect(fs.readFileSync(path.join(root, 'shared/.rescued', live, 'public/feed.xml'), 'utf8')).toBe(
      'app feed',
    );
    for (const dir of [pub, path.join(liveReleasePath, 'public')])
      for (const name of ['sitemap.xml', 'feed.xml'])
        expect(fs.readlinkSync(path.join(dir, name))).toBe(`../../../shared/public/${name}`);
  });

  it('a file of the live release in place of its link again, at a second deploy while it is still live (the first failed after this stage): the version kept in .history/ the first time stays', () => {
    const { root, plan, shared } = fixture({ 'images/a.png': 'a' });
    const live = '20200101-000000';
    const livePub = path.join(root, 'releases', live, 'public');
    const history = path.join(root, 'shared/.history', live, 'public');
    const at = (file: string, s: number) => fs.utimesSync(file, s, s);
    // Someone edited shared's robots.txt by hand; then the app renamed its own over its link, twice.
    writeTree(shared, { 'robots.txt': 'hand edit' });
    at(path.join(shared, 'robots.txt'), 1_000);
    const appWrites = (body: string, s: number) => {
      fs.rmSync(path.join(livePub, 'robots.txt'), { force: true });
      writeTree(livePub, { 'robots.txt': body });
      at(path.join(livePub, 'robots.txt'), s);
    };
    appWrites('app 1', 2_000);
    expect(run({ ...plan, liveReleasePath: path.dirname(livePub), liveRelease: live }).code).toBe(0);
    appWrites('app 2', 3_000);
    const r = run({ ...plan, liveReleasePath: path.dirname(livePub), liveRelease: live });
    expect(r.code).toBe(0);
    expect(readPublicReport(r.stdout)!.replaced).toEqual(['robots.txt']);
    expect(fs.readFileSync(path.join(shared, 'robots.txt'), 'utf8')).toBe('app 2');
    const kept = fs.readdirSync(history).map((n) => fs.readFileSync(path.join(history, n), 'utf8'));
    expect(kept.sort()).toEqual(['app 1', 'hand edit']);
  });

  it('a file of the live release rescued again under the same live release: the copy rescued the first time stays', () => {
    const { root, plan, shared } = fixture({ 'images/a.png': 'a' });
    const live = '20200101-000000';
    const livePub = path.join(root, 'releases', live, 'public');
    const rescued = path.join(root, 'shared/.rescued', live, 'public');
    // shared's feed.xml is newer each time (edited by hand), so the app's goes to .rescued/, twice.
    const round = (body: string, s: number) => {
      fs.rmSync(path.join(livePub, 'feed.xml'), { force: true });
      writeTree(livePub, { 'feed.xml': body });
      fs.utimesSync(path.join(livePub, 'feed.xml'), s, s);
      writeTree(shared, { 'feed.xml': 'hand edit' });
      fs.utimesSync(path.join(shared, 'feed.xml'), s + 500, s + 500);
      const r = run({ ...plan, liveReleasePath: path.dirname(livePub), liveRelease: live });
      expect(r.code).toBe(0);
      expect(readPublicReport(r.stdout)!.rescued).toHaveLength(1);
    };
    round('app 1', 1_000);
    round('app 2', 2_000);
    const kept = fs.readdirSync(rescued).map((n) => fs.readFileSync(path.join(rescued, n), 'utf8'));
    expect(kept.sort()).toEqual(['app 1', 'app 2']);
    expect(fs.readFileSync(path.join(shared, 'feed.xml'), 'utf8')).toBe('hand edit');
  });

  it('refuses a release whose public dir is a symlink', () => {
    const { plan, pub } = fixture({});
    fs.mkdirSync(path.dirname(pub), { recursive: true });
    fs.symlinkSync('/tmp', pub);
    expect(run(plan).code).not.toBe(0);
  });
});

describe('script size', () => {
  it('stays small however many files public/ holds: the per-file commands go to stdin', () => {
    const files = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`images/icon-${i}.svg`, `<svg>${i}</svg>`]),
    );
    const { plan, pub, shared } = fixture(files);
    const script = composeScript([{ id: 'shared', commands: planPublicShare(plan) }]).text;
    expect(script.length).toBeLessThan(16 * 1024);
    expect(planPublicEntries(plan).length).toBeGreaterThan(128 * 1024);
    const r = run(plan);
    expect(r.code).toBe(0);
    expect(readPublicReport(r.stdout)!.added).toBe(3000);
    expect(fs.readlinkSync(path.join(pub, 'images'))).toBe('../../../shared/public/images');
    expect(fs.readdirSync(path.join(shared, 'images'))).toHaveLength(3000);
  });
});
