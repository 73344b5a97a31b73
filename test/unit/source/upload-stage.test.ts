import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployPaths } from '../../../src/layout/paths.js';
import { spareFiles, spareOrigin, spareTree } from '../../../src/layout/spare.js';
import { MANIFEST_FILES, RECORD, recordManifest } from '../../../src/layout/release-files.js';
import { lines } from '../../../src/remote/sh.js';
import { listingDir, probePreviousRelease, type HeldDigests } from '../../../src/layout/live-listing.js';
import { readPreviousLine, resolvePrevious, type HeldState } from '../../../src/source/previous-release.js';
import { decodeListing, sha256Hex } from '../../../src/source/listing.js';
import type { SourceEntry } from '../../../src/source/scan.js';
import { upload } from '../../../src/stages/upload.js';
import { composeScript } from '../../../src/engine/compose.js';
import type { ManifestEntry } from '../../../src/source/manifest.js';
import type { UploadPlan } from '../../../src/source/upload-plan.js';
import type { ReleaseContext } from '../../../src/stages/types.js';
import { emptyRemoteState } from '../../../src/layout/remote-state.js';

const paths = deployPaths("/srv/it's app");
const entries: SourceEntry[] = [{ path: 'a', type: 'file', mode: 0o644, size: 1, mtimeMs: 0 }];

function ctx(upload?: ReleaseContext['upload']): ReleaseContext {
  return {
    paths,
    release: '20260102-000000',
    releasePath: `${paths.releases}/20260102-000000`,
    lockToken: 'tok',
    source: { root: '/src', entries },
    config: { shared_dirs: [], shared_files: [] },
    remote: emptyRemoteState(),
    upload,
  } as unknown as ReleaseContext;
}

/** An upload plan that seeds the release from 20260101-000000 and sends nothing new. */
const seeded = (over: Partial<NonNullable<ReleaseContext['upload']>>): ReleaseContext['upload'] =>
  ({
    entries: [],
    seed: 'link',
    base: '20260101-000000',
    send: [],
    remove: [],
    link: [],
    kept: new Map(),
    compression: 'none',
    ...over,
  }) as ReleaseContext['upload'];

/** The mtime the kept files were given by their upload, in whole seconds (2026-01-01). */
const KEPT_MTIME = 1767225600;

/** A kept file as the previous upload's manifest records it. */
const file = (p: string, size = 1, mtime = KEPT_MTIME): ManifestEntry => ({
  path: p,
  type: 'file',
  mode: 0o644,
  size,
  mtime,
  sha256: '0'.repeat(64),
});

/** A file on the server as an upload left it: the body, and the mtime the manifest records. */
function uploaded(at: string, body: string, mtime = KEPT_MTIME): void {
  fs.writeFileSync(at, body);
  // A Date: node reads a negative number of seconds as now.
  fs.utimesSync(at, new Date(mtime * 1000), new Date(mtime * 1000));
}

/** Runs the upload stage of `plan` in /bin/sh, as a deploy would, into a new release under `p`. */
async function runUpload(
  p: ReturnType<typeof deployPaths>,
  root: string,
  plan: UploadPlan,
  sent: SourceEntry,
) {
  const c = {
    ...ctx(plan),
    paths: p,
    releasePath: path.join(p.releases, '20260102-000000'),
    source: { root: path.join(root, 'src'), entries: [sent] },
  } as ReleaseContext;
  fs.mkdirSync(c.releasePath);
  const stdin = Buffer.concat(await upload.stdin!(c).toArray());
  const r = spawnSync('/bin/sh', ['-c', composeScript([{ id: 'upload', commands: upload.plan(c) }]).text], {
    input: stdin,
    encoding: 'utf8',
  });
  return { r, c };
}

describe('upload stage plan', () => {
  it('a full upload extracts into the empty release and files the manifest', () => {
    const text = upload.plan(ctx()).map((c) => c.text);
    expect(text[0]).toBe(
      `tar --no-unquote -x --no-same-owner -p -f - -C '/srv/it'\\''s app/releases/20260102-000000'`,
    );
    expect(text[1]).toContain(
      `mv -f -- '/srv/it'\\''s app/releases/20260102-000000/.shipshape-upload-manifest.tok.pieces'`,
    );
    expect(text[2]).toContain(`'/srv/it'\\''s app/.deploy/upload-manifests/20260102-000000.json.gz'`);
    expect(text.join('\n')).not.toContain('cp -a');
  });

  it('an incremental upload hard-links, reads exactly the removal list, then extracts with gzip', () => {
    const text = upload
      .plan(ctx(seeded({ seed: 'link', remove: ['gone', 'dir/é'], compression: 'gzip' })))
      .map((c) => c.text);
    expect(text[0]).toBe(
      `cp -al -- '/srv/it'\\''s app/releases/20260101-000000/.' '/srv/it'\\''s app/releases/20260102-000000' 2> '/srv/it'\\''s app/.deploy/seed-20260102-000000.err' || :`,
    );
    // 'gone\0' + 'dir/é\0' in UTF-8 is 5 + 7 bytes.
    expect(text[1]).toBe(
      `head -c 12 | { cd '/srv/it'\\''s app/releases/20260102-000000' && xargs -0 -r rm -rf --; }`,
    );
    // No kept symlinks: the seed check reads an empty list, then compares the release's listing.
    expect(text[2]).toMatch(/^head -c 0 > /);
    expect(text[3]).toMatch(/^tar --no-unquote -x -z --no-same-owner -p -f - -C /);
  });

  it('upload: copy seeds with cp -a, not hard links', () => {
    const text = upload.plan(ctx(seeded({ seed: 'copy' }))).map((c) => c.text);
    expect(text[0]).toMatch(/^cp -a -- /);
  });

  it('a recycled spare is moved into place, corrected by removals, then links from the previous release, then tar', () => {
    const text = upload
      .plan(ctx(seeded({ seed: 'recycle', remove: ['gone'], link: ['a/b.php', 'c'] })))
      .map((c) => c.text);
    // The probe offered the spare only if nothing was written into it since it was pruned.
    expect(text[0]).toContain(`mv -n -t '/srv/it'\\''s app/releases/20260102-000000' -- {} +`);
    expect(text[0]).toContain(`! -L '/srv/it'\\''s app/.deploy/spare'`);
    // The removal list and the links are kept aside: the rescue tells them from what a process
    // still running from the spare's release wrote into it since the probe read it.
    const removed = `'/srv/it'\\''s app/.deploy/seed-20260102-000000.removed'`;
    const at = (prefix: string) => text.findIndex((t) => t.startsWith(prefix));
    expect(text[at('head -c 5 ')]).toBe(`head -c 5 > ${removed}`);
    expect(text[at('if [ -f ')]).toContain(
      `-printf "$0" 2>/dev/null; :' '%s\\t%T@\\t%i\\t%p\\0' < ${removed})`,
    );
    expect(text[at('(cd ')]).toBe(
      `(cd '/srv/it'\\''s app/releases/20260102-000000' && xargs -0 -r rm -rf -- < ${removed})`,
    );
    // 'a/b.php\0' + 'c\0' is 8 + 2 bytes, read after the removal list.
    expect(text[at('head -c 10 ')]).toBe(
      `head -c 10 > '/srv/it'\\''s app/.deploy/seed-20260102-000000.relinked' && (cd '/srv/it'\\''s app/releases/20260101-000000' && xargs -0 -r cp -al --parents -t '/srv/it'\\''s app/releases/20260102-000000' -- < '/srv/it'\\''s app/.deploy/seed-20260102-000000.relinked')`,
    );
    expect(at('head -c 5 ')).toBeLessThan(at('(cd '));
    expect(at('(cd ')).toBeLessThan(at('head -c 10 '));
    expect(at('head -c 10 ')).toBeLessThan(at('head -c 0 > '));
    expect(at('head -c 0 > ')).toBeLessThan(at('tar --no-unquote -x --no-same-owner -p -f - -C '));
    expect(text.join('\n')).not.toContain('cp -al -- ');
  });
});

describe('the seeded release is checked before anything is extracted into it (run by /bin/sh)', () => {
  const dir = (p: string): ManifestEntry => ({ path: p, type: 'dir', mode: 0o755, size: 0, mtime: 0 });

  async function run(plant: (prev: string) => void) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-check-'));
    const p = deployPaths(root);
    const prev = path.join(p.releases, '20260101-000000');
    fs.mkdirSync(path.join(prev, 'lib'), { recursive: true });
    uploaded(path.join(prev, 'lib/a.php'), 'a');
    uploaded(path.join(prev, 'index.php'), 'i');
    // Before 1970 and with a fraction of a second: the probe's listing reads 0 and 1577836800.
    uploaded(path.join(prev, 'old.php'), 'old', -10.5);
    uploaded(path.join(prev, 'frac.php'), 'frac', 1577836800.5);
    // A name the server's sed must leave as it is: a fraction and negative seconds lookalike.
    uploaded(path.join(prev, 'v1.5\t-7\t.php'), 'odd');
    // The deploy's lock, taken before the probe.
    fs.mkdirSync(p.lock, { recursive: true });
    uploaded(path.join(p.lock, 'owner.json'), '{}', KEPT_MTIME + 60);
    plant(prev);
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    const sent: SourceEntry = { path: 'lib/new.php', type: 'file', mode: 0o644, size: 3, mtimeMs: 0 };
    fs.mkdirSync(path.join(root, 'src/lib'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src/lib/new.php'), 'new');
    const plan: UploadPlan = {
      entries: [],
      seed: 'link',
      base: '20260101-000000',
      send: [sent],
      remove: [],
      link: [],
      kept: new Map([
        ['lib', dir('lib')],
        ['lib/a.php', file('lib/a.php')],
        ['index.php', file('index.php')],
        ['old.php', file('old.php', 3, 0)],
        ['frac.php', file('frac.php', 4, 1577836800)],
        ['v1.5\t-7\t.php', file('v1.5\t-7\t.php', 3)],
      ]),
      compression: 'none',
    };
    const { r, c } = await runUpload(p, root, plan, sent);
    return { r, root, release: c.releasePath, outside };
  }

  it('passes a release that holds exactly the kept files, and extracts into it', async () => {
    const { r, release } = await run(() => {});
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(release, 'lib/new.php'), 'utf8')).toBe('new');
  });

  it('stops, naming it, at a symlink planted where a kept directory was; nothing is written through it', async () => {
    const { r, release, outside } = await run((prev) => {
      fs.rmSync(path.join(prev, 'lib'), { recursive: true });
      fs.symlinkSync(path.join(prev, '../../outside'), path.join(prev, 'lib'));
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('unexpected symlink: lib');
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.existsSync(path.join(release, 'lib/new.php'))).toBe(false);
  });

  it('names a planted symlink and a file changed since the lock on one line each, though their names hold a newline', async () => {
    const { r } = await run((prev) => {
      fs.symlinkSync('/etc', path.join(prev, 'x\n  unexpected symlink: y'));
      uploaded(
        path.join(prev, 'w\n  changed on the server since this deploy began: z'),
        'w',
        KEPT_MTIME + 120,
      );
    });
    expect(r.status).not.toBe(0);
    const said = (what: string) => r.stderr.split('\n').filter((l) => l.includes(what));
    expect(said('unexpected symlink')).toEqual(['  unexpected symlink: x\\n  unexpected symlink: y']);
    expect(said('changed on the server since')).toEqual([
      '  changed on the server since this deploy began: w\\n  changed on the server since this deploy began: z',
    ]);
  });

  it('stops when a kept file is missing from the release', async () => {
    const { r } = await run((prev) => fs.rmSync(path.join(prev, 'index.php')));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('does not hold exactly the 5 files and links');
  });

  // Named when its mtime is newer than the lock: the third puts its mtime back, so only the check sees it.
  it.each([
    [
      'replaced by a new file (a hotfix by sed -i)',
      (at: string) => uploaded(at, 'I', KEPT_MTIME + 120),
      true,
    ],
    ['rewritten in place, its size the same', (at: string) => fs.writeFileSync(at, 'I'), true],
    ['made longer, its mtime put back', (at: string) => uploaded(at, 'i and more'), false],
  ])(
    'stops when a kept file of the live release was %s after the probe read it: nothing goes live in place of the source',
    async (_, change, named) => {
      const { r, release } = await run((prev) => change(path.join(prev, 'index.php')));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(
        'does not hold exactly the 5 files and links it keeps from it as the probe saw them',
      );
      const said = r.stderr
        .split('\n')
        .filter((l) => l.includes('changed on the server since this deploy began'));
      expect(said).toEqual(named ? ['  changed on the server since this deploy began: index.php'] : []);
      expect(fs.existsSync(path.join(release, 'lib/new.php'))).toBe(false);
    },
  );
});

describe('a recycled spare written into after the probe read it (run by /bin/sh)', () => {
  /** The live release, the spare (a pruned release) and the probe's walk of it; `write` comes after the walk. */
  async function recycle(write: (spare: string) => void) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-rescue-'));
    const p = deployPaths(root);
    const live = path.join(p.releases, '20260101-000000');
    fs.mkdirSync(path.join(live, 'lib'), { recursive: true });
    uploaded(path.join(live, 'lib/a.php'), 'a');
    uploaded(path.join(live, 'index.php'), 'i');
    const spare = spareTree(p);
    fs.mkdirSync(path.join(spare, 'lib'), { recursive: true });
    uploaded(path.join(spare, 'lib/a.php'), 'a');
    fs.writeFileSync(path.join(spare, 'old.php'), 'o');
    fs.mkdirSync(path.join(spare, 'olddir'));
    fs.writeFileSync(path.join(spare, 'olddir/x.php'), 'x');
    fs.writeFileSync(spareOrigin(p), `20251231-000000\n${fs.statSync(spare).ino}\n`);
    fs.writeFileSync(
      spareFiles(p),
      execFileSync('/bin/sh', [
        '-c',
        `cd "$1" && find . ${MANIFEST_FILES.text} -printf ${RECORD.text}`,
        'sh',
        spare,
      ]),
    );
    write(spare);
    const sent: SourceEntry = { path: 'lib/new.php', type: 'file', mode: 0o644, size: 3, mtimeMs: 0 };
    fs.mkdirSync(path.join(root, 'src/lib'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src/lib/new.php'), 'new');
    const plan: UploadPlan = {
      entries: [],
      seed: 'recycle',
      base: '20260101-000000',
      send: [sent],
      remove: ['old.php', 'olddir'],
      // The spare lacks index.php: hard-linked from the live release.
      link: ['index.php'],
      kept: new Map([
        ['lib/a.php', file('lib/a.php')],
        ['index.php', file('index.php')],
      ]),
      compression: 'none',
    };
    const { r, c } = await runUpload(p, root, plan, sent);
    const rescued = path.join(p.shared, '.rescued/20251231-000000');
    const notes = upload.notes!({ exitCode: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }, c);
    return { r, release: c.releasePath, rescued, notes, meta: p.meta };
  }

  it('moves what was written to shared/.rescued/<its release>/, checks the release again and extracts into it', async () => {
    const { r, release, rescued, notes, meta } = await recycle((spare) => {
      fs.writeFileSync(path.join(spare, 'lib/late.csv'), 'late body\n');
      fs.symlinkSync('lib/late.csv', path.join(spare, 'late-link'));
    });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(rescued, 'lib/late.csv'), 'utf8')).toBe('late body\n');
    expect(fs.readlinkSync(path.join(rescued, 'late-link'))).toBe('lib/late.csv');
    expect(fs.existsSync(path.join(release, 'lib/late.csv'))).toBe(false);
    expect(fs.readFileSync(path.join(release, 'lib/new.php'), 'utf8')).toBe('new');
    expect(fs.readFileSync(path.join(release, 'index.php'), 'utf8')).toBe('i');
    expect(notes.map((n) => n.message)).toEqual([
      expect.stringMatching(
        /^release 20251231-000000: 2 file\(s\) were written into it after this deploy's probe read it/,
      ),
    ]);
    // The seed's own files are gone.
    expect(fs.readdirSync(meta).filter((n) => n.startsWith('seed-'))).toEqual([]);
  });

  it('under the paths the plan removes, a file written or rewritten since is moved out before the removal', async () => {
    const { r, release, rescued, notes } = await recycle((spare) => {
      fs.writeFileSync(path.join(spare, 'olddir/late.csv'), 'late in a dir that goes\n');
      fs.appendFileSync(path.join(spare, 'old.php'), ' and a line');
    });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(rescued, 'olddir/late.csv'), 'utf8')).toBe('late in a dir that goes\n');
    expect(fs.readFileSync(path.join(rescued, 'old.php'), 'utf8')).toBe('o and a line');
    expect(fs.existsSync(path.join(rescued, 'olddir/x.php'))).toBe(false);
    expect(fs.existsSync(path.join(release, 'olddir'))).toBe(false);
    expect(fs.existsSync(path.join(release, 'old.php'))).toBe(false);
    expect(notes.map((n) => n.message)).toEqual([
      expect.stringMatching(/^release 20251231-000000: 2 file\(s\)/),
    ]);
  });

  it('without the probe walk of the spare to tell them apart, nothing is moved and the release is not used', async () => {
    const { r, release, rescued } = await recycle((spare) => {
      fs.writeFileSync(path.join(spare, 'lib/late.csv'), 'late body\n');
      fs.rmSync(spareFiles(deployPaths(path.dirname(path.dirname(spare)))));
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('does not hold exactly the 2 files and links');
    expect(fs.existsSync(rescued)).toBe(false);
    expect(fs.existsSync(path.join(release, 'lib/new.php'))).toBe(false);
  });

  it('with nothing written, the spare passes as it is and nothing is rescued', async () => {
    const { r, rescued, notes } = await recycle(() => {});
    expect(r.status, r.stderr).toBe(0);
    expect(fs.existsSync(rescued)).toBe(false);
    expect(notes).toEqual([]);
  });
});

describe('probe of the previous release (run by /bin/sh on a real tree)', () => {
  const nothingHeld: HeldState = { manifest: () => undefined };
  const probeOut = (p: ReturnType<typeof deployPaths>, withSpare: boolean, held?: HeldDigests) => {
    const out = execFileSync('/bin/sh', [
      '-c',
      `set -e\n${lines(...probePreviousRelease(p, withSpare, held)).text}`,
    ]).toString();
    let raw;
    for (const line of out.split('\n')) {
      const tab = line.indexOf('\t');
      raw = readPreviousLine(raw, line.slice(0, tab), line.slice(tab + 1));
    }
    return raw;
  };

  it('lists the release current points to, and sends the manifest only to a machine that lacks it', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "probe it's-"));
    const p = deployPaths(root);
    const rel = path.join(p.releases, '20260101-000000');
    fs.mkdirSync(path.join(rel, 'd'), { recursive: true });
    fs.writeFileSync(path.join(rel, 'd', 'new\nli\tne.txt'), 'abc');
    fs.chmodSync(path.join(rel, 'd', 'new\nli\tne.txt'), 0o640);
    fs.symlinkSync('../../shared/st\torage', path.join(rel, 'storage'));
    fs.symlinkSync('releases/20260101-000000', p.current);
    fs.mkdirSync(path.join(p.meta, 'upload-manifests'), { recursive: true });
    fs.writeFileSync(path.join(p.meta, 'upload-manifests', '20260101-000000.json.gz'), 'MANIFEST');

    const raw = probeOut(p, true);
    expect(raw?.release).toBe('20260101-000000');
    expect(Buffer.from(raw!.manifest!, 'base64').toString()).toBe('MANIFEST');
    expect(raw?.manifestDigest).toBe(sha256Hex(Buffer.from('MANIFEST')));
    const tree = decodeListing(resolvePrevious(raw, nothingHeld)?.tree);
    expect(tree?.get('d/new\nli\tne.txt')).toMatchObject({ type: 'file', mode: 0o640, size: 3 });
    expect(tree?.get('d')).toMatchObject({ type: 'dir' });
    expect(tree?.get('storage')).toMatchObject({ type: 'symlink', link: '../../shared/st\torage' });
    expect(tree?.size).toBe(3);
    expect(raw?.spare).toBeUndefined();
    // A dry run keeps nothing on the server.
    expect(fs.existsSync(listingDir(p))).toBe(false);

    const known = probeOut(p, true, { manifests: [raw!.manifestDigest!], keep: true });
    expect(known?.manifest).toBeUndefined();
    expect(known?.manifestDigest).toBe(raw?.manifestDigest);
    fs.rmSync(root, { recursive: true });
  });

  it('sends only what changed since the listing this machine holds, and the result is checked against the digest', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-delta-'));
    const p = deployPaths(root);
    const rel = path.join(p.releases, '20260101-000000');
    fs.mkdirSync(path.join(rel, 'd'), { recursive: true });
    for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(rel, 'd', `f${i}.txt`), `file ${i}`);
    fs.symlinkSync('releases/20260101-000000', p.current);
    const first = probeOut(p, false, { manifests: [], keep: true })!;
    expect(first.tree?.base).toBeUndefined();
    const reference = resolvePrevious(first, nothingHeld)!.tree!;
    const held: HeldState = { ...nothingHeld, listing: { digest: first.tree!.digest, data: reference } };

    fs.writeFileSync(path.join(rel, 'd', 'f7.txt'), 'rewritten');
    fs.rmSync(path.join(rel, 'd', 'f8.txt'));
    fs.writeFileSync(path.join(rel, 'new.txt'), 'new');
    const next = probeOut(p, false, { listing: first.tree!.digest, manifests: [], keep: true })!;
    expect(next.tree?.base).toBe(first.tree!.digest);
    // Three changes travel, not 200 files.
    expect(next.tree!.data.length).toBeLessThan(first.tree!.data.length / 4);
    const tree = decodeListing(resolvePrevious(next, held)?.tree)!;
    expect(tree.size).toBe(201);
    expect(tree.get('d/f7.txt')).toMatchObject({ size: 9 });
    expect(tree.has('d/f8.txt')).toBe(false);
    expect(tree.get('new.txt')).toMatchObject({ type: 'file', size: 3 });

    // A reference that is not what the server kept under that name: the result is refused, not trusted.
    const wrong: HeldState = { ...held, listing: { digest: first.tree!.digest, data: Buffer.alloc(0) } };
    expect(resolvePrevious(next, wrong)?.tree).toBeUndefined();
    // A reference the server no longer has: the listing comes whole.
    fs.rmSync(listingDir(p), { recursive: true });
    const whole = probeOut(p, false, { listing: first.tree!.digest, manifests: [], keep: true })!;
    expect(whole.tree?.base).toBeUndefined();
    expect(decodeListing(resolvePrevious(whole, nothingHeld)?.tree)?.size).toBe(201);
    fs.rmSync(root, { recursive: true });
  });

  it("a deploy's probe also leaves the live release's files as its manifest lists them, for the changes stage", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-files-'));
    const p = deployPaths(root);
    const release = '20260101-000000';
    const rel = path.join(p.releases, release);
    fs.mkdirSync(path.join(rel, 'd'), { recursive: true });
    fs.writeFileSync(path.join(rel, 'd', 'new\nli\tne.txt'), 'abc');
    fs.writeFileSync(path.join(rel, 'index.php'), 'code');
    fs.symlinkSync('../shared/storage', path.join(rel, 'storage'));
    fs.symlinkSync(`releases/${release}`, p.current);
    const script = (keep: boolean) =>
      [
        'set -e',
        lines(...probePreviousRelease(p, false, { manifests: [], keep })).text,
        recordManifest(p, rel, release).text,
        `if [ -n "\${__ss_files_of:-}" ] && cmp "$__ss_files" ${p.meta}/manifests/${release}.list >&2; then echo "same $__ss_files_of"; fi`,
      ].join('\n');
    const out = (keep: boolean) =>
      execFileSync('/bin/sh', ['-c', script(keep)])
        .toString()
        .split('\n');
    expect(out(true)).toContain(`same ${rel}`);
    // A dry run (no keep) writes nothing under .deploy/ and names no list.
    expect(out(false).some((l) => l.startsWith('same'))).toBe(false);
    fs.rmSync(root, { recursive: true });
  });

  it('lists the spare too, with device and inode that show which files are the same as the release', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-spare-'));
    const p = deployPaths(root);
    const rel = path.join(p.releases, '20260101-000000');
    fs.mkdirSync(rel, { recursive: true });
    fs.writeFileSync(path.join(rel, 'same.txt'), 'same');
    fs.writeFileSync(path.join(rel, 'copy.txt'), 'copy');
    fs.symlinkSync('releases/20260101-000000', p.current);
    fs.mkdirSync(spareTree(p), { recursive: true });
    fs.linkSync(path.join(rel, 'same.txt'), path.join(spareTree(p), 'same.txt'));
    fs.writeFileSync(path.join(spareTree(p), 'copy.txt'), 'copy');

    const raw = resolvePrevious(probeOut(p, true), nothingHeld)!;
    const prev = decodeListing(raw.tree)!;
    const spare = decodeListing(raw.spare)!;
    expect(spare.get('same.txt')!.id).toBe(prev.get('same.txt')!.id);
    expect(spare.get('copy.txt')!.id).not.toBe(prev.get('copy.txt')!.id);
    expect(spare.size).toBe(2);
    expect(probeOut(p, false)?.spare).toBeUndefined();
    fs.rmSync(root, { recursive: true });
  });
});
