import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFinished, planConfirmed } from '../../../src/layout/finished.js';
import { deployPaths } from '../../../src/layout/paths.js';

const shape = 'a'.repeat(32);
const listing = 'b'.repeat(64);
const source = 'c'.repeat(32);

describe('parseFinished', () => {
  it('reads a release name and a shape, and nothing else a server may send', () => {
    expect(parseFinished(`20261204-101010\t${shape}`)).toEqual({ release: '20261204-101010', shape });
    expect(parseFinished(`../../etc\t${shape}`)).toBeUndefined();
    expect(parseFinished('20261204-101010\t')).toBeUndefined();
    expect(parseFinished(`20261204-101010\t${shape}\u001b[2J`)).toBeUndefined();
    expect(parseFinished('')).toBeUndefined();
  });

  it('reads the listing and source a run confirmed, only as digests and only both', () => {
    expect(parseFinished(`20261204-101010\t${shape}\t${listing}\t${source}`)).toEqual({
      release: '20261204-101010',
      shape,
      listing,
      source,
    });
    expect(parseFinished(`20261204-101010\t${shape}\t${listing}`)).toBeUndefined();
    expect(parseFinished(`20261204-101010\t${shape}\t${listing.toUpperCase()}\t${source}`)).toBeUndefined();
    expect(parseFinished(`20261204-101010\t${shape}\t${listing}\t${source}x`)).toBeUndefined();
    expect(parseFinished(`20261204-101010\t${shape}\t${listing}\t${source}\tmore`)).toBeUndefined();
  });
});

describe('planConfirmed', () => {
  it('rewrites the record only while it names the same release and shape', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "shipshape-finished it's-"));
    const paths = deployPaths(root);
    fs.mkdirSync(paths.meta);
    const file = path.join(paths.meta, 'finished');
    // As a composed script runs it: under errexit, with the unlock after it.
    const run = (release: string, s = shape, l = listing) =>
      execFileSync('/bin/sh', [
        '-ec',
        `${planConfirmed(paths, { release, shape: s, listing: l, source }).text}\necho unlocked`,
      ]).toString();
    try {
      fs.writeFileSync(file, `20261204-101010\t${shape}\n`);
      expect(run('20261204-090909')).toBe('unlocked\n');
      expect(fs.readFileSync(file, 'utf8')).toBe(`20261204-101010\t${shape}\n`);
      run('20261204-101010', 'd'.repeat(32));
      expect(fs.readFileSync(file, 'utf8'), 'another shape').toBe(`20261204-101010\t${shape}\n`);
      run('20261204-101010');
      expect(fs.readFileSync(file, 'utf8')).toBe(`20261204-101010\t${shape}\t${listing}\t${source}\n`);
      // A record already confirmed is confirmed again with what this run saw.
      run('20261204-101010', shape, 'e'.repeat(64));
      expect(fs.readFileSync(file, 'utf8')).toBe(`20261204-101010\t${shape}\t${'e'.repeat(64)}\t${source}\n`);
      // Best effort: a record that cannot be written leaves the old one, and the unlock runs.
      fs.mkdirSync(`${file}.tmp`);
      expect(run('20261204-101010')).toBe('unlocked\n');
      expect(fs.readFileSync(file, 'utf8')).toContain('e'.repeat(64));
      fs.rmSync(`${file}.tmp`, { recursive: true });
      fs.rmSync(file);
      run('20261204-101010');
      expect(fs.existsSync(file)).toBe(false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
