import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { ContentSource } from '../../../src/source/content.js';
import { scanSource, type SourceEntry } from '../../../src/source/scan.js';
import { packTar } from '../../../src/source/tar.js';
import { snapshot, writeTree } from '../../support/project.js';

describe('packTar', () => {
  it('writes an archive GNU tar extracts to the same tree, with long and non-ASCII names, and hashes on the way', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tar-'));
    const src = path.join(dir, 'src');
    const long = 'd'.repeat(120);
    writeTree(src, {
      'a/run.sh': { content: '#!/bin/sh\n', mode: 0o751 },
      [`${long}/${'f'.repeat(130)}.php`]: 'long\n',
      "é ü 'q' $(x).txt": 'unicode\n',
      'big.bin': 'x'.repeat(1_500_000),
      empty: '',
      link: { link: `${long}/${'f'.repeat(130)}.php` },
    });
    const entries = await scanSource(src, []);
    const hashes = new Map<string, string>();
    const archive = path.join(dir, 'a.tar');
    await pipeline(
      packTar(src, entries, [{ path: 'REVISION', content: 'abc\n' }], { onHash: (p, h) => hashes.set(p, h) }),
      fs.createWriteStream(archive),
    );
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    execFileSync('tar', ['-x', '-p', '-f', archive, '-C', out]);
    const extracted = snapshot(out);
    expect(extracted['REVISION']).toMatch(/^file 644 /);
    delete extracted['REVISION'];
    expect(extracted).toEqual(snapshot(src));
    expect(hashes.get('big.bin')).toBe(createHash('sha256').update('x'.repeat(1_500_000)).digest('hex'));
    expect(hashes.size).toBe(entries.filter((e) => e.type === 'file').length);
    fs.rmSync(dir, { recursive: true });
  });

  it('tells the hash hook when each file began to be read, for the cache to judge it settled then', async () => {
    const began = new Map<string, number>();
    const told = new Map<string, number>();
    const file = (p: string): SourceEntry => ({ path: p, type: 'file', mode: 0o644, size: 3, mtimeMs: 0 });
    // Content that streams slowly, as a large file does: the read ends well after it began.
    const slow: ContentSource = {
      cacheRoot: 'slow',
      cacheKey: (e) => e,
      hash: async () => new Map(),
      reader: () => ({
        async *chunks(e) {
          began.set(e.path, Date.now());
          await new Promise((resolve) => setTimeout(resolve, 30));
          yield Buffer.from('ab\n');
        },
        close: () => undefined,
      }),
    };
    await pipeline(
      packTar(slow, [file('a'), file('b')], [], { onHash: (p, _h, _e, readAt) => told.set(p, readAt) }),
      new Writable({ write: (_c, _e, cb) => cb() }),
    );
    for (const p of ['a', 'b']) expect(told.get(p)).toBeLessThanOrEqual(began.get(p)!);
    expect(told.get('b')).toBeGreaterThanOrEqual(began.get('a')!);
  });

  it('fails instead of writing a corrupt archive when a file changes size while being read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tar-'));
    writeTree(dir, { 'f.txt': 'short' });
    const entries = await scanSource(dir, []);
    fs.writeFileSync(path.join(dir, 'f.txt'), 'longer now');
    const sink = fs.createWriteStream(path.join(os.tmpdir(), `tar-${process.pid}.tar`));
    await expect(pipeline(packTar(dir, entries), sink)).rejects.toThrow(
      /f.txt: changed while it was being uploaded/,
    );
    fs.rmSync(dir, { recursive: true });
  });

  it('a file that vanished or cannot be read is a DeployError naming it, not a stack trace', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tar-'));
    writeTree(dir, { 'gone.txt': 'soon gone', 'big.bin': 'x'.repeat(1_500_000) });
    const entries = await scanSource(dir, []);
    const sink = () => fs.createWriteStream(path.join(os.tmpdir(), `tar-${process.pid}.tar`));
    fs.rmSync(path.join(dir, 'gone.txt'));
    await expect(pipeline(packTar(dir, entries), sink())).rejects.toMatchObject({
      code: 'ESOURCE',
      message: 'gone.txt: cannot be read for the upload (ENOENT)',
    });
    fs.rmSync(path.join(dir, 'big.bin'));
    const big = entries.filter((e) => e.path === 'big.bin');
    await expect(pipeline(packTar(dir, big), sink())).rejects.toMatchObject({ code: 'ESOURCE' });
    fs.rmSync(dir, { recursive: true });
  });
});
