import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeManifest, MANIFEST_FORMAT, type ManifestEntry } from '../../../src/source/manifest.js';
import type { SourceEntry } from '../../../src/source/scan.js';
import { chooseCompression, planUpload, topMost, type UploadInput } from '../../../src/source/upload-plan.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const T = 1_700_000_000;

const file = (p: string, content: string, mode = 0o644): SourceEntry & { content: string } => ({
  path: p,
  type: 'file',
  mode,
  size: Buffer.byteLength(content),
  mtimeMs: Date.now(),
  content,
});
const dir = (p: string, mode = 0o755): SourceEntry => ({ path: p, type: 'dir', mode, size: 0, mtimeMs: 0 });
const link = (p: string, target: string): SourceEntry => ({
  path: p,
  type: 'symlink',
  mode: 0o777,
  size: 0,
  mtimeMs: 0,
  linkTarget: target,
});

/** The probe's listing, as the server sorts it (source/listing.ts); `id` is device:inode. */
function treeOf(
  rows: [
    type: string,
    mode: number,
    size: number,
    mtime: number,
    path: string,
    link?: string,
    id?: string,
    uid?: number,
  ][],
) {
  const records = rows.map(([y, m, s, t, p, l, id, uid]) =>
    Buffer.from(
      [y, m.toString(8), s, `${t}.0000000000`, id ?? `1:${p}`, uid ?? 1000, Buffer.byteLength(p)].join('\t') +
        `\t${p}${l ?? ''}\0`,
    ),
  );
  return Buffer.concat(records.sort(Buffer.compare));
}

const manifestOf = (release: string, entries: ManifestEntry[]) =>
  encodeManifest({ format: MANIFEST_FORMAT, release, created_at: '', entries });

const hashOf = (source: (SourceEntry & { content?: string })[]) => {
  const asked: string[] = [];
  const hash: UploadInput['hash'] = async (entries) => {
    asked.push(...entries.map((e) => e.path));
    return new Map(entries.map((e) => [e.path, sha(source.find((s) => s.path === e.path)!.content ?? '')]));
  };
  return { hash, asked };
};

describe('planUpload', () => {
  const prevFiles = {
    'a.txt': 'same\n',
    'b.txt': 'old b\n',
    'c.txt': 'same size 1\n',
  };
  const recorded: ManifestEntry[] = [
    { path: 'lib', type: 'dir', mode: 0o755, size: 0, mtime: T },
    ...Object.entries(prevFiles).map(([p, c]) => ({
      path: p,
      type: 'file' as const,
      mode: 0o644,
      size: Buffer.byteLength(c),
      mtime: T,
      sha256: sha(c),
    })),
    { path: 'lib/x.php', type: 'file', mode: 0o644, size: 2, mtime: T, sha256: sha('x\n') },
    { path: 'storage', type: 'dir', mode: 0o755, size: 0, mtime: T },
    { path: 'storage/.keep', type: 'file', mode: 0o644, size: 0, mtime: T, sha256: sha('') },
  ];
  // The files and directory of `recorded` as the server lists them, untouched since the upload.
  const listedAsUploaded: Parameters<typeof treeOf>[0] = [
    ['f', 0o644, 5, T, 'a.txt'],
    ['f', 0o644, 6, T, 'b.txt'],
    ['f', 0o644, 12, T, 'c.txt'],
    ['d', 0o755, 4096, T, 'lib'],
    ['f', 0o644, 2, T, 'lib/x.php'],
  ];
  const previous = {
    release: '20260101-000000',
    manifest: manifestOf('20260101-000000', recorded),
    tree: treeOf([
      ...listedAsUploaded,
      // The shared stage replaced storage/ by a link; the app wrote a cache file.
      ['l', 0o777, 20, T, 'storage', '../../shared/storage'],
      ['f', 0o644, 3, T + 50, 'cache.tmp'],
      ['f', 0o644, 9, T, 'REVISION'],
    ]),
  };

  it('sends again an unchanged file another user owns: under protected hard links it cannot be linked', async () => {
    const source = [file('a.txt', 'same\n'), file('c.txt', 'same size 1\n')];
    const { hash } = hashOf(source);
    const owned = {
      ...previous,
      uid: '1000',
      tree: treeOf([
        ['f', 0o644, 5, T, 'a.txt', undefined, undefined, 1000],
        // chown -R www-data by an administrator: size and mtime as uploaded, another owner.
        ['f', 0o644, 12, T, 'c.txt', undefined, undefined, 33],
      ]),
    };
    const { plan, notice } = await planUpload({
      entries: source,
      mode: 'incremental',
      compression: 'none',
      previous: owned,
      hash,
    });
    expect([...plan.kept.keys()]).toEqual(['a.txt']);
    expect(plan.send.map((e) => e.path)).toEqual(['c.txt']);
    expect(plan.remove).toContain('c.txt');
    expect(notice.message).toContain('1 unchanged file(s) owned by another user sent again');
    // A copy needs no ownership: upload: copy keeps it.
    const copy = await planUpload({
      entries: source,
      mode: 'copy',
      compression: 'none',
      previous: owned,
      hash,
    });
    expect([...copy.plan.kept.keys()].sort()).toEqual(['a.txt', 'c.txt']);
  });

  it('keeps what is unchanged, sends what changed, removes what left or is replaced', async () => {
    const source = [
      file('a.txt', 'same\n'),
      file('b.txt', 'new b, longer\n'),
      file('c.txt', 'same size 2\n'),
      link('lib', 'a.txt'),
      dir('storage'),
      file('storage/.keep', ''),
      dir('new'),
      file('new/n.txt', 'n\n'),
    ];
    const { hash, asked } = hashOf(source);
    const { plan, notice } = await planUpload({
      entries: source,
      mode: 'incremental',
      compression: 'none',
      previous,
      hash,
    });
    expect(notice.message).toContain('incremental upload from 20260101-000000 (hard links)');
    expect(plan.seed).toBe('link');
    expect(plan.base).toBe('20260101-000000');
    expect([...plan.kept.keys()]).toEqual(['a.txt']);
    expect(plan.send.map((e) => e.path)).toEqual([
      'b.txt',
      'c.txt',
      'lib',
      'storage',
      'storage/.keep',
      'new',
      'new/n.txt',
    ]);
    // lib/x.php goes with lib; storage (the link) is removed, never followed.
    expect(plan.remove).toEqual(['REVISION', 'b.txt', 'c.txt', 'cache.tmp', 'lib', 'storage']);
    // Only files whose size still matches are hashed; b.txt's size already says it changed.
    expect(asked.sort()).toEqual(['a.txt', 'c.txt']);
  });

  it('says whether the source is what the base was given only for skip_unchanged, which alone asks', async () => {
    const kept = recorded.filter((m) => !m.path.startsWith('storage'));
    const base = {
      ...previous,
      manifest: manifestOf(previous.release, kept),
      tree: treeOf(listedAsUploaded),
    };
    const same = [
      ...Object.entries(prevFiles).map(([p, c]) => file(p, c)),
      dir('lib'),
      file('lib/x.php', 'x\n'),
    ];
    const plan = (entries: typeof same, skipUnchanged?: boolean) =>
      planUpload({
        entries,
        mode: 'incremental',
        compression: 'none',
        previous: base,
        ...hashOf(entries),
        skipUnchanged,
      });
    expect((await plan(same, true)).plan.sameAsBase).toBe(true);
    expect((await plan(same)).plan.sameAsBase).toBeUndefined();
    const other = same.map((e) => (e.path === 'c.txt' ? file('c.txt', 'same size 2\n') : e));
    expect((await plan(other, true)).plan.sameAsBase).toBe(false);
  });

  it('re-sends a file whose size or mtime on disk no longer matches its manifest entry', async () => {
    const tampered = {
      ...previous,
      tree: treeOf([['f', 0o644, 5, T + 1, 'a.txt']]),
    };
    const source = [file('a.txt', 'same\n')];
    const { plan } = await planUpload({
      entries: source,
      mode: 'incremental',
      compression: 'none',
      previous: tampered,
      hash: hashOf(source).hash,
    });
    expect(plan.send.map((e) => e.path)).toEqual(['a.txt']);
    expect(plan.remove).toEqual(['a.txt']);
  });

  it('re-sends a file whose mode changed rather than chmod a shared inode', async () => {
    const source = [file('a.txt', 'same\n', 0o755)];
    const { plan } = await planUpload({
      entries: source,
      mode: 'incremental',
      compression: 'none',
      previous,
      hash: hashOf(source).hash,
    });
    expect(plan.send.map((e) => e.path)).toEqual(['a.txt']);
    expect(plan.remove).toContain('a.txt');
  });

  it('upload: copy seeds with an independent copy', async () => {
    const source = [file('a.txt', 'same\n')];
    const { plan, notice } = await planUpload({
      entries: source,
      mode: 'copy',
      compression: 'gzip',
      previous,
      hash: hashOf(source).hash,
    });
    expect(plan.seed).toBe('copy');
    expect(plan.compression).toBe('gzip');
    expect(notice.message).toContain('(copied)');
  });

  it.each([
    ['upload: full', { mode: 'full' as const, previous }, 'info', '`upload: full` is set'],
    ['no previous release', { previous: undefined }, 'info', 'no previous release on this host'],
    ['no manifest', { previous: { ...previous, manifest: undefined } }, 'warn', 'has no upload manifest'],
    ['garbage', { previous: { ...previous, manifest: Buffer.from('not gzip') } }, 'warn', 'is unreadable'],
    [
      'a path escaping the release',
      {
        previous: {
          ...previous,
          manifest: manifestOf(previous.release, [
            { path: '../x', type: 'file', mode: 420, size: 0, mtime: T, sha256: sha('') },
          ]),
        },
      },
      'warn',
      'invalid entry',
    ],
    [
      'another release',
      { previous: { ...previous, manifest: manifestOf('20250101-000000', []) } },
      'warn',
      'names another release',
    ],
    [
      'garbled listing',
      { previous: { ...previous, tree: Buffer.from('f\t644\0') } },
      'warn',
      'could not list',
    ],
  ])('falls back to a full upload: %s', async (_name, over, level, text) => {
    const source = [dir('d'), file('d/a.txt', 'a')];
    const { plan, notice } = await planUpload({
      entries: source,
      mode: 'incremental',
      compression: 'none',
      hash: hashOf(source).hash,
      ...over,
    });
    expect(plan.seed).toBe('empty');
    expect(plan.send).toEqual(source);
    expect(plan.remove).toEqual([]);
    expect(notice.level).toBe(level);
    expect(notice.message).toContain(text);
  });
});

describe('planUpload and the shared entries of public_dir', () => {
  const release = '20260101-000000';
  const row = (p: string, content: string): ManifestEntry => ({
    path: p,
    type: 'file',
    mode: 0o644,
    size: Buffer.byteLength(content),
    mtime: T,
    sha256: sha(content),
  });
  const manifest = manifestOf(release, [
    { path: 'public', type: 'dir', mode: 0o755, size: 0, mtime: T },
    { path: 'public/images', type: 'dir', mode: 0o755, size: 0, mtime: T },
    row('public/images/logo.png', 'logo'),
    row('public/images/hero.png', 'hero v1'),
    row('public/robots.txt', 'robots'),
  ]);
  const source = [
    dir('public'),
    dir('public/images'),
    file('public/images/logo.png', 'logo'),
    file('public/images/hero.png', 'hero v2'),
    file('public/robots.txt', 'robots'),
  ];
  const shared = (unsettled: string[] = []) => ({
    entryOf: (p: string) =>
      p.startsWith('public/images/') ? 'public/images' : p === 'public/robots.txt' ? p : undefined,
    unsettled: new Set(unsettled),
  });
  const linked = treeOf([
    ['d', 0o755, 0, T, 'public'],
    ['l', 0o777, 0, T, 'public/images', '../../../shared/public/images'],
    ['l', 0o777, 0, T, 'public/robots.txt', '../../shared/public/robots.txt'],
  ]);
  const plan = async (tree: Buffer, unsettled?: string[]) =>
    (
      await planUpload({
        entries: source,
        mode: 'incremental',
        compression: 'none',
        previous: { release, manifest, tree },
        hash: hashOf(source).hash,
        shared: shared(unsettled),
      })
    ).plan;

  it('sends only the public files that changed since the live release placed them, and records the others', async () => {
    const p = await plan(linked);
    expect(p.send.filter((e) => e.type === 'file').map((e) => e.path)).toEqual(['public/images/hero.png']);
    expect([...p.placed!.keys()].sort()).toEqual(['public/images/logo.png', 'public/robots.txt']);
    // The links the seeded release carries go; tar makes the entry a directory again for the shared stage.
    expect(p.remove).toEqual(['public/images', 'public/robots.txt']);
    expect(p.kept.has('public/images/logo.png')).toBe(false);
  });

  it('sends a placed file again when shared/ lost it or its update still waits, and when the entry is not linked', async () => {
    const again = await plan(linked, ['public/images/logo.png']);
    expect(again.send.map((e) => e.path)).toContain('public/images/logo.png');
    expect(again.placed!.has('public/images/logo.png')).toBe(false);
    const notLinked = await plan(
      treeOf([
        ['d', 0o755, 0, T, 'public'],
        ['d', 0o755, 0, T, 'public/images'],
        ['f', 0o644, 4, T, 'public/images/logo.png'],
      ]),
    );
    expect(notLinked.placed!.has('public/images/logo.png')).toBe(false);
  });
});

describe('planUpload with a spare (a pruned release to rename into the new one)', () => {
  const kept = { 'a.txt': 'a\n', 'k1.txt': 'k1\n', 'k2.txt': 'k2\n', 'k3.txt': 'k3\n', 'd/k4.txt': 'k4\n' };
  const fileRow = (p: string, content: string) => ({
    path: p,
    type: 'file' as const,
    mode: 0o644,
    size: Buffer.byteLength(content),
    mtime: T,
    sha256: sha(content),
  });
  const recorded: ManifestEntry[] = [
    ...Object.entries(kept).map(([p, c]) => fileRow(p, c)),
    fileRow('changed.txt', 'old\n'),
    { path: 'd', type: 'dir', mode: 0o755, size: 0, mtime: T },
    { path: 'm', type: 'dir', mode: 0o755, size: 0, mtime: T },
    { path: 's', type: 'symlink', mode: 0o777, size: 0, mtime: T, link: 'a.txt' },
  ];
  const base = '20260101-000000';
  const previous = {
    release: base,
    manifest: manifestOf(base, recorded),
    tree: treeOf([
      ...Object.entries(kept).map(
        ([p, c]) =>
          ['f', 0o644, Buffer.byteLength(c), T, p, '', `8:${p}`] as [
            string,
            number,
            number,
            number,
            string,
            string,
            string,
          ],
      ),
      ['f', 0o644, 4, T, 'changed.txt', '', '8:changed'],
      ['d', 0o755, 4096, T, 'd'],
      ['d', 0o755, 4096, T, 'm'],
      ['l', 0o777, 5, T, 's', 'a.txt'],
      ['l', 0o777, 20, T, 'storage', '../../shared/storage'],
    ]),
  };
  const spare = treeOf([
    ['f', 0o644, 2, T, 'a.txt', '', '8:a.txt'], // the very file the previous release has
    ['f', 0o644, 3, T, 'k1.txt', '', '8:other'], // looks equal, is another inode: not trusted
    // k2.txt is missing
    ['d', 0o755, 4096, T, 'k3.txt'],
    ['f', 0o644, 1, T, 'k3.txt/x'],
    ['d', 0o755, 4096, T, 'd'],
    ['f', 0o644, 3, T, 'd/k4.txt', '', '8:d/k4.txt'],
    ['f', 0o644, 4, T, 'changed.txt', '', '8:changed'],
    ['d', 0o700, 4096, T, 'm'],
    ['l', 0o777, 9, T, 's', 'elsewhere'],
    ['l', 0o777, 20, T, 'storage', '../../shared/storage'],
    ['f', 0o644, 1, T, 'junk.txt'],
    ['d', 0o755, 4096, T, 'old'],
    ['f', 0o644, 1, T, 'old/deep.txt'],
  ]);
  const source = [
    file('a.txt', 'a\n'),
    file('changed.txt', 'new content\n'),
    dir('d'),
    file('d/k4.txt', 'k4\n'),
    file('k1.txt', 'k1\n'),
    file('k2.txt', 'k2\n'),
    file('k3.txt', 'k3\n'),
    dir('m'),
    link('s', 'a.txt'),
    dir('storage'),
    file('storage/.keep', ''),
  ];

  it('keeps the files that are the previous release’s inodes, links the rest, sends what changed, removes what does not belong', async () => {
    const { plan, notice } = await planUpload({
      entries: source,
      mode: 'incremental',
      compression: 'none',
      previous: { ...previous, spare },
      hash: hashOf(source).hash,
    });
    expect(plan.seed).toBe('recycle');
    expect(plan.base).toBe(base);
    expect(plan.remove).toEqual(['changed.txt', 'junk.txt', 'k1.txt', 'k3.txt', 'old', 's', 'storage']);
    expect(plan.link).toEqual(['k1.txt', 'k2.txt', 'k3.txt']);
    // m: only its mode differs in the spare, so tar sets it; d and the kept files are left alone.
    expect(plan.send.map((e) => e.path)).toEqual(['changed.txt', 'm', 's', 'storage', 'storage/.keep']);
    expect([...plan.kept.keys()].sort()).toEqual([
      'a.txt',
      'd',
      'd/k4.txt',
      'k1.txt',
      'k2.txt',
      'k3.txt',
      'm',
      's',
    ]);
    expect(notice.message).toContain(
      'in the directories of a pruned release: 7 path(s) removed from it, 3 linked again',
    );
    // What changed is counted against the live release, as the same plan without a spare counts it:
    // the spare's corrections are not the person's changes.
    const linked = await planUpload({
      entries: source,
      mode: 'incremental',
      compression: 'none',
      previous,
      hash: hashOf(source).hash,
    });
    expect(linked.plan.seed).toBe('link');
    expect(plan.againstBase?.remove).toEqual(linked.plan.remove);
    expect(plan.againstBase?.send).toEqual(linked.plan.send);
    const counts = /: (\d+) new or changed, (\d+) removed or replaced, (\d+) kept/;
    expect(counts.exec(notice.message)?.slice(1)).toEqual(counts.exec(linked.notice.message)?.slice(1));
    expect(counts.exec(notice.message)?.slice(1)).toEqual([
      String(linked.plan.send.filter((e) => e.type !== 'dir').length),
      String(linked.plan.remove.length),
      '8',
    ]);
  });

  it('ignores the spare for `upload: copy` and when its listing is incomplete', async () => {
    const copy = await planUpload({
      entries: source,
      mode: 'copy',
      compression: 'none',
      previous: { ...previous, spare },
      hash: hashOf(source).hash,
    });
    expect(copy.plan.seed).toBe('copy');
    expect(copy.plan.link).toEqual([]);
    const truncated = await planUpload({
      entries: source,
      mode: 'incremental',
      compression: 'none',
      previous: { ...previous, spare: Buffer.from('f\t644\0') },
      hash: hashOf(source).hash,
    });
    expect(truncated.plan.seed).toBe('link');
    expect(truncated.plan.link).toEqual([]);
  });
});

describe('topMost', () => {
  it('keeps only the outermost of nested paths', () => {
    expect(topMost(['a/b/c', 'a/b', 'ab', 'a/bc', 'x/y'])).toEqual(['a/b', 'a/bc', 'ab', 'x/y']);
  });
});

describe('chooseCompression', () => {
  it('defaults to none for local and loopback hosts and gzip elsewhere; explicit wins', () => {
    expect(chooseCompression(undefined, 'w', { local: true })).toBe('none');
    expect(chooseCompression(undefined, 'w', { local: false, hostname: '127.0.0.1' })).toBe('none');
    expect(chooseCompression(undefined, 'localhost', { local: false })).toBe('none');
    expect(chooseCompression(undefined, 'w', { local: false, hostname: 'web1.example.com' })).toBe('gzip');
    expect(chooseCompression('none', 'w', { local: false, hostname: 'web1.example.com' })).toBe('none');
  });
});
