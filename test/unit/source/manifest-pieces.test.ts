import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { deployPaths } from '../../../src/layout/paths.js';
import { manifestFile, manifestList, manifestPieces } from '../../../src/layout/upload-manifests.js';
import { emptyRemoteState } from '../../../src/layout/remote-state.js';
import { composeScript } from '../../../src/engine/compose.js';
import {
  encodeManifestFrom,
  encodeManifestPieces,
  MANIFEST_FORMAT,
  piecesOf,
  type ManifestEntry,
  type PieceRecord,
} from '../../../src/source/manifest.js';
import type { SourceEntry } from '../../../src/source/scan.js';
import { fullPlan, type UploadPlan } from '../../../src/source/upload-plan.js';
import { openProbeMemory } from '../../../src/source/probe-memory.js';
import { sha256Hex } from '../../../src/source/listing.js';
import { cacheEntry } from '../../../src/definitions/cache-dir.js';
import { upload } from '../../../src/stages/upload.js';
import type { ReleaseContext } from '../../../src/stages/types.js';

const head = {
  format: MANIFEST_FORMAT,
  release: '20260101-000000',
  created_at: '2026-01-01T00:00:00.000Z',
} as const;

const entry = (i: number, sha = 'a'): ManifestEntry => ({
  path: `app/d${i % 17}/f${String(i).padStart(5, '0')}.php`,
  type: 'file',
  mode: 0o644,
  size: i,
  mtime: 1_700_000_000,
  sha256: sha.repeat(64),
});
const entries = (n: number) =>
  Array.from({ length: n }, (_, i) => entry(i)).sort((a, b) => (a.path < b.path ? -1 : 1));

const namesOf = (r: { pieces: { name: string }[] }) => r.pieces.map((p) => p.name);

describe('the upload manifest in pieces', () => {
  it('is, put together, the manifest written whole: the same JSON', async () => {
    const list = entries(3000);
    const { whole, pieces } = await encodeManifestPieces(head, list, 1);
    expect(gunzipSync(whole).toString()).toBe(gunzipSync(await encodeManifestFrom(head, list, 1)).toString());
    // Head, tail, and runs of about 64 entries between them.
    expect(pieces.length).toBeGreaterThan(3000 / 64 / 2);
    expect(pieces.length).toBeLessThan((3000 / 64) * 2);
    expect(gunzipSync((await encodeManifestPieces(head, [], 1)).whole).toString()).toBe(
      JSON.stringify({ ...head, entries: [] }),
    );
  });

  it('an entry that changes, comes or goes changes its own piece only (and the head)', async () => {
    const before = await encodeManifestPieces(head, entries(3000), 1);
    const changed = entries(3000);
    changed[1234] = { ...changed[1234]!, sha256: 'b'.repeat(64) };
    changed.splice(2000, 1);
    changed.splice(500, 0, { ...entry(99_999), path: `${changed[499]!.path}x` });
    const after = await encodeManifestPieces({ ...head, release: '20260102-000000' }, changed, 1);
    const old = new Set(namesOf(before));
    const fresh = namesOf(after).filter((n) => !old.has(n));
    // The head, and at most two pieces for each of the three changes (an entry that ends a piece joins two).
    expect(fresh.length).toBeGreaterThanOrEqual(4);
    expect(fresh.length).toBeLessThanOrEqual(7);
  });

  it('takes the pieces it holds as they are, and splits a manifest back into its pieces', async () => {
    const first = await encodeManifestPieces(head, entries(500), 1);
    const sizes = first.pieces.map((p) => ({ name: p.name, size: p.gz.length }));
    const held = piecesOf(first.whole, sizes)!;
    expect([...held.keys()]).toEqual(namesOf(first));
    const next = await encodeManifestPieces(head, entries(500), 6, held);
    // Held pieces are not compressed again (at level 6 they would be other bytes).
    expect(next.whole.equals(first.whole)).toBe(true);
    expect(piecesOf(first.whole, sizes.slice(1))).toBeUndefined();
  });
});

describe("this machine's memory of the pieces", () => {
  it('keeps them with their manifest, refuses a damaged record, and lets them go with it', async () => {
    const env = { SHIPSHAPE_CACHE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'pieces-memory-')) };
    const memory = openProbeMemory('deploy@web:22/srv/app', env);
    const made = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        encodeManifestPieces({ ...head, release: `2026010${n}-000000` }, entries(200), 1),
      ),
    );
    const digest = (m: (typeof made)[number]) => sha256Hex(m.whole);
    const dir = cacheEntry('hosts', 'deploy@web:22/srv/app', env);
    for (const [i, m] of made.entries()) {
      memory.keepManifest(
        m.whole,
        m.pieces.map((x) => ({ name: x.name, size: x.gz.length })),
      );
      // Kept in order of age (mtime): a second apart, the last one now.
      const then = new Date(Date.now() - (made.length - i) * 1000);
      if (i < made.length - 1)
        for (const f of fs.readdirSync(dir))
          if (f.includes(digest(m))) fs.utimesSync(path.join(dir, f), then, then);
    }
    const held = memory.held();
    const last = made.at(-1)!;
    expect(piecesOf(last.whole, held.pieces!(digest(last))!)).toEqual(
      piecesOf(
        last.whole,
        last.pieces.map((x) => ({ name: x.name, size: x.gz.length })),
      ),
    );
    // Four manifests are kept; the oldest went with its pieces.
    expect(held.pieces!(digest(made[0]!))).toBeUndefined();
    expect(held.manifest(digest(made[0]!))).toBeUndefined();
    expect(held.pieces!(digest(made[1]!))).toBeDefined();
    fs.appendFileSync(path.join(dir, `manifest-${digest(last)}.pieces`), 'not a piece\n');
    expect(held.pieces!(digest(last))).toBeUndefined();
    fs.rmSync(env.SHIPSHAPE_CACHE_DIR, { recursive: true });
  });
});

describe('the upload stage puts the manifest together on the server (run by /bin/sh)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "pieces it's-"));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const p = deployPaths(path.join(root, 'srv'));
  const src = path.join(root, 'src');
  fs.mkdirSync(src);
  const files: SourceEntry[] = Array.from({ length: 300 }, (_, i) => {
    const name = `f${String(i).padStart(3, '0')}.txt`;
    fs.writeFileSync(path.join(src, name), `file ${i}\n`);
    return {
      path: name,
      type: 'file',
      mode: 0o644,
      size: String(`file ${i}\n`).length,
      mtimeMs: 1_700_000_000_000,
    };
  });

  /** The upload stage's context for a new release of `files` under `p`, created empty. */
  const contextFor = (release: string, plan: UploadPlan): ReleaseContext => {
    const ctx = {
      paths: p,
      release,
      releasePath: path.join(p.releases, release),
      lockToken: 'tok',
      source: { root: src, entries: files },
      config: { shared_dirs: [], shared_files: [] },
      remote: emptyRemoteState(),
      upload: plan,
    } as unknown as ReleaseContext;
    fs.mkdirSync(ctx.releasePath, { recursive: true });
    return ctx;
  };
  /** Runs the stage's script in /bin/sh with `stdin`, as a deploy would. */
  const runStage = (ctx: ReleaseContext, stdin: Buffer) =>
    spawnSync('/bin/sh', ['-c', composeScript([{ id: 'upload', commands: upload.plan(ctx) }]).text], {
      input: stdin,
      encoding: 'utf8',
    });

  /** One upload into a new release; returns what the client remembered and the archive's entries. */
  async function deploy(release: string, held?: Map<string, Buffer>) {
    let remembered: { whole: Buffer; pieces: PieceRecord[] } | undefined;
    const ctx = contextFor(release, {
      ...fullPlan(files, 'none'),
      heldPieces: held,
      remember: (whole, pieces) => (remembered = { whole, pieces: [...(pieces ?? [])] }),
    });
    const stdin = Buffer.concat(await upload.stdin!(ctx).toArray());
    const archived = execFileSync('tar', ['-t'], { input: stdin }).toString().split('\n');
    const r = runStage(ctx, stdin);
    expect(r.status, r.stderr).toBe(0);
    return { ...remembered!, pieceFiles: archived.filter((n) => /pieces\/[0-9a-f]{32}$/.test(n)) };
  }
  const heldFrom = (d: { whole: Buffer; pieces: PieceRecord[] }) => piecesOf(d.whole, d.pieces)!;
  const stored = (release: string) => fs.readFileSync(manifestFile(p, release));

  it('sends only the pieces the server lacks, and the manifest it stores is the one the client remembers', async () => {
    const first = await deploy('20260101-000000');
    expect(first.pieceFiles.length).toBe(first.pieces.length);
    expect(stored('20260101-000000').equals(first.whole)).toBe(true);
    // The release holds the code and nothing of the manifest.
    expect(fs.readdirSync(path.join(p.releases, '20260101-000000')).length).toBe(300);

    fs.writeFileSync(path.join(src, 'f123.txt'), 'file 123, changed\n');
    files[123] = { ...files[123]!, size: 18 };
    const second = await deploy('20260102-000000', heldFrom(first));
    // Its head and the piece of the changed file.
    expect(second.pieceFiles.length).toBe(2);
    expect(stored('20260102-000000').equals(second.whole)).toBe(true);
    expect(JSON.parse(gunzipSync(second.whole).toString()).entries[123].size).toBe(18);
  });

  it('an archive that ends before its list fails the stage', () => {
    const ctx = contextFor('20260101-120000', fullPlan(files, 'none'));
    // A well-formed archive of the files alone: tar is content, the list is missing.
    const r = runStage(ctx, execFileSync('tar', ['-c', '-C', src, 'f000.txt', 'f001.txt']));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('the archive ended before its last entry');
    expect(fs.existsSync(manifestList(p, ctx.release))).toBe(false);
    fs.rmSync(ctx.releasePath, { recursive: true });
  });

  it('a piece missing from the pool leaves the release without a manifest, and the stage goes on', async () => {
    const before = await deploy('20260103-000000');
    const gone = before.pieces[1]!.name;
    fs.rmSync(path.join(manifestPieces(p), gone));
    const next = await deploy('20260104-000000', heldFrom(before));
    expect(next.pieceFiles.some((n) => n.endsWith(gone))).toBe(false);
    expect(fs.existsSync(manifestFile(p, '20260104-000000'))).toBe(false);
    expect(fs.existsSync(manifestList(p, '20260104-000000'))).toBe(false);
    expect(fs.existsSync(path.join(p.releases, '20260104-000000', 'f000.txt'))).toBe(true);
  });

  it('past its limit, the pool keeps the pieces some release lists and drops the rest', async () => {
    const pool = manifestPieces(p);
    const stray = (n: number) => {
      for (let i = 0; i < n; i++) fs.writeFileSync(path.join(pool, i.toString(16).padStart(32, '0')), 'x');
    };
    // 300 entries: the limit is 2 × 5 + 200 pieces. Below it, nothing is looked for.
    stray(10);
    const last = await deploy('20260105-000000');
    expect(fs.existsSync(path.join(pool, '0'.repeat(32)))).toBe(true);
    // A release that is gone: its manifest and list go, and past the limit the pieces only it named.
    fs.rmSync(path.join(p.releases, '20260101-000000'), { recursive: true });
    stray(250);
    const listed = (release: string) =>
      fs.readFileSync(manifestList(p, release), 'utf8').split('\n').filter(Boolean);
    const onlyFirst = listed('20260101-000000').filter(
      (n) => !['20260102-000000', '20260103-000000', '20260105-000000'].some((r) => listed(r).includes(n)),
    );
    expect(onlyFirst.length).toBeGreaterThan(0);
    await deploy('20260106-000000', heldFrom(last));
    const left = new Set(fs.readdirSync(pool));
    expect(left.has('0'.repeat(32)), 'fake').toBe(false);
    expect(
      onlyFirst.filter((n) => left.has(n)),
      'onlyFirst',
    ).toEqual([]);
    expect(fs.existsSync(manifestList(p, '20260101-000000')), 'list').toBe(false);
    for (const r of ['20260102-000000', '20260103-000000', '20260105-000000', '20260106-000000'])
      for (const n of listed(r)) expect(left.has(n), `${r}: ${n}`).toBe(true);
    // What is left is exactly what the lists name.
    expect(left.size).toBe(
      new Set(['20260102-000000', '20260103-000000', '20260105-000000', '20260106-000000'].flatMap(listed))
        .size,
    );
    expect(stored('20260106-000000').length).toBeGreaterThan(0);
  });
});
