import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { isDeployError } from '../../../src/definitions/errors.js';
import {
  artifactId,
  canonicalBytes,
  entriesOf,
  manifestOf,
  parseManifest,
} from '../../../src/source/artifact/manifest.js';
import { fetchBundle } from '../../../src/source/artifact/fetch-bundle.js';
import type { SourceEntry } from '../../../src/source/scan.js';
import { readReach } from '../../../src/stages/store-reach.js';
import { configError } from '../../support/errors.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

const entry = (p: string, type: SourceEntry['type'], extra: Partial<SourceEntry> = {}): SourceEntry => ({
  path: p,
  type,
  mode: type === 'dir' ? 0o755 : 0o644,
  size: 0,
  mtimeMs: 1_700_000_000_000,
  ino: 42,
  ctimeMs: 1_700_000_000_000,
  ...extra,
});

const tree = (mtimeMs: number, order: 'scan' | 'reversed' = 'scan'): SourceEntry[] => {
  const list = [
    entry('a', 'dir', { mtimeMs }),
    entry('a/b.txt', 'file', { size: 3, mtimeMs, ino: mtimeMs }),
    entry('a.txt', 'file', { size: 5, mode: 0o755, mtimeMs }),
    entry('link', 'symlink', { linkTarget: 'a.txt', mtimeMs }),
  ];
  return order === 'scan' ? list : list.reverse();
};
const hashes = new Map([
  ['a/b.txt', SHA_A],
  ['a.txt', SHA_B],
]);

describe('artifact manifest', () => {
  it('the id depends on paths, types, modes, links, hashes and the revision; never on times, inodes or order', () => {
    const id = artifactId(canonicalBytes(manifestOf(tree(1), hashes, 'abc')));
    expect(artifactId(canonicalBytes(manifestOf(tree(999_999, 'reversed'), hashes, 'abc')))).toBe(id);
    const chmod = tree(1).map((e) => (e.path === 'a.txt' ? { ...e, mode: 0o644 } : e));
    expect(artifactId(canonicalBytes(manifestOf(chmod, hashes, 'abc')))).not.toBe(id);
    const relink = tree(1).map((e) => (e.path === 'link' ? { ...e, linkTarget: 'a' } : e));
    expect(artifactId(canonicalBytes(manifestOf(relink, hashes, 'abc')))).not.toBe(id);
    expect(
      artifactId(canonicalBytes(manifestOf(tree(1), new Map([...hashes, ['a.txt', SHA_A]]), 'abc'))),
    ).not.toBe(id);
    expect(artifactId(canonicalBytes(manifestOf(tree(1), hashes, 'abd')))).not.toBe(id);
  });

  it('reads back what it wrote, as entries with one time', () => {
    const bytes = canonicalBytes(manifestOf(tree(1), hashes, 'abc'));
    const m = parseManifest(bytes, artifactId(bytes));
    expect(m.revision).toBe('abc');
    const entries = entriesOf(m, 5000);
    expect(entries.map((e) => [e.path, e.type, e.mode, e.size, e.oid, e.linkTarget, e.mtimeMs])).toEqual([
      ['a', 'dir', 0o755, 0, undefined, undefined, 5000],
      ['a.txt', 'file', 0o755, 5, SHA_B, undefined, 5000],
      ['a/b.txt', 'file', 0o644, 3, SHA_A, undefined, 5000],
      ['link', 'symlink', 0o644, 0, undefined, 'a.txt', 5000],
    ]);
  });

  it('refuses a manifest that does not hash to its id, or holds an entry the upload must not write', () => {
    const refused = (text: string, id = artifactId(Buffer.from(text))) => {
      try {
        parseManifest(Buffer.from(text), id);
        return 'accepted';
      } catch (e) {
        return isDeployError(e, 'EARTIFACT') ? e.message : String(e);
      }
    };
    const head = '{"format":"shipshape-artifact/1","revision":null}\n';
    const good = `${head}{"path":"a","type":"file","mode":420,"size":1,"sha256":"${SHA_A}"}\n`;
    expect(refused(good)).toBe('accepted');
    expect(refused(good, SHA_B)).toContain('does not hash to its id');
    expect(
      refused(`${head}{"path":"../x","type":"file","mode":420,"size":1,"sha256":"${SHA_A}"}\n`),
    ).toContain('invalid entry');
    expect(refused(`${head}{"path":"a","type":"file","mode":420,"size":1}\n`)).toContain('invalid entry');
    // A path below a symlink of the artifact would be written through the link.
    expect(
      refused(
        `${head}{"path":"l","type":"symlink","mode":511,"link":"/etc"}\n{"path":"l/passwd","type":"file","mode":420,"size":1,"sha256":"${SHA_A}"}\n`,
      ),
    ).toContain('invalid entry');
    expect(refused('{"format":"other"}\n')).toContain('not a shipshape-artifact/1 manifest');
  });
});

describe('fetch bundle', () => {
  const files = [
    entry('-dash', 'file', { size: 4, oid: SHA_A }),
    entry('bin/run', 'file', { size: 9, mode: 0o755, oid: SHA_B }),
    entry('q "x" \\ y', 'file', { size: 2, oid: SHA_A }),
    entry('empty', 'file', { size: 0, oid: SHA_B }),
    entry('bin', 'dir'),
  ];
  const url = (sha: string) => `https://s3.example/o/${sha.slice(0, 4)}?X-Amz-Signature=sig`;

  it('curl config quotes every path and URL; the check list reads back with sha256sum', () => {
    const b = fetchBundle({ send: files }, 'curl', url, Buffer.from('TAR'), 1234);
    const text = b.bytes.toString('utf8');
    const list = text.slice(0, b.layout.list);
    expect(list).toContain('output = "./-dash"\n');
    expect(list).toContain('output = "./q \\"x\\" \\\\ y"\n');
    expect(list).not.toContain('empty'); // no request for an empty file: the archive has it
    expect(b.layout).toMatchObject({ files: 3, bytes: 15, mtime: 1234 });
    expect(b.layout.modes.map((m) => m.mode)).toEqual([0o644, 0o755]);
    expect(b.bytes.subarray(b.bytes.length - 3).toString()).toBe('TAR');

    // The check list is what coreutils' sha256sum -c reads (a backslash in a name escaped).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-check-'));
    try {
      const check = text.slice(b.layout.list, b.layout.list + b.layout.check);
      for (const f of ['-dash', 'bin/run', 'q "x" \\ y']) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.writeFileSync(path.join(dir, f), 'x');
      }
      const out = (() => {
        try {
          return execFileSync('sha256sum', ['-c', '--quiet', '-'], {
            cwd: dir,
            input: check,
            encoding: 'utf8',
            stdio: 'pipe',
          });
        } catch (e) {
          return (e as { stdout: string }).stdout;
        }
      })();
      expect(out.split('\n').filter(Boolean).sort()).toEqual([
        './-dash: FAILED',
        './bin/run: FAILED',
        './q "x" \\ y: FAILED',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the same plan gives the same bundle bytes, so a fleet shares one', () => {
    const a = fetchBundle({ send: files }, 'wget', url, Buffer.from('T'), 1);
    const b = fetchBundle({ send: [...files] }, 'wget', url, Buffer.from('T'), 1);
    expect(a.sha256).toBe(b.sha256);
    expect(a.bytes.toString().split('\n')[0]).toBe(`${url(SHA_A)} -dash`);
  });
});

describe('store reach', () => {
  it('reads what the host said', () => {
    expect(readReach('@@shipshape-reach curl 206\n')).toEqual({ tool: 'curl', ok: true });
    expect(readReach('@@shipshape-reach curl 403\n')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('HTTP 403'),
    });
    expect(readReach('@@shipshape-reach curl 000\n')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('no answer'),
    });
    expect(readReach('@@shipshape-reach wget 0\n')).toEqual({ tool: 'wget', ok: true });
    expect(readReach('@@shipshape-reach wget 4\n')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('network failure'),
    });
    expect(readReach('@@shipshape-reach none 0\n')).toMatchObject({ tool: 'none', ok: false });
  });
});

describe('artifacts settings', () => {
  const base = 'application: a\nhosts:\n  web:\n    hostname: h\n    deploy_path: /srv/a\n';
  it('fetch: pull needs an s3:// store, at the top and per host, reported together', () => {
    const { problems } = configError(() =>
      parseConfig(`${base}    fetch: pull\nfetch: pull\n`, 'deploy.yml', {}),
    );
    expect(problems.map((p) => p.key).sort()).toEqual(['fetch', 'hosts.web.fetch']);
    expect(problems[0]!.message).toContain('pull needs an s3:// store');
    const ok = parseConfig(`${base}fetch: pull\nartifacts:\n  store: s3://bucket/app\n`, 'deploy.yml', {});
    expect(ok.config.artifacts.store).toBe('s3://bucket/app');
    expect(ok.config.artifacts.url_expiry).toBe(900);
  });

  it('a directory store is relative to deploy.yml; a malformed s3 URL is refused', () => {
    const ok = parseConfig(base, '/work/app/deploy.yml', {});
    expect(ok.config.artifacts.store).toBe('/work/app/.shipshape/artifacts');
    expect(() => parseConfig(`${base}artifacts:\n  store: s3://Bad_Bucket\n`, 'deploy.yml', {})).toThrow(
      /problem/,
    );
  });
});
