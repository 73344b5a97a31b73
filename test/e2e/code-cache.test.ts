import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tmpDir, writeConfig, writeTree } from '../support/project.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/deploy.js');

/**
 * The bin as `npx deploy` runs it (the built bundle, dist/bin/cli.cjs, which `npm ci` builds):
 * compiled with V8's code cache from the cache directory (src/startup/code-cache.ts).
 */
describe('the bin compiles the CLI with a code cache', () => {
  const home = tmpDir('shipshape-code-cache-');
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));
  const cacheDir = path.join(home, 'cache');
  const run = (args = ['--version']) =>
    execFileSync(process.execPath, [BIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, SHIPSHAPE_CACHE_DIR: cacheDir, CI: 'true' },
    }).trim();
  // A deploy (to a local host) sets V8 flags as it runs, under which V8 would refuse the cache.
  writeTree(path.join(home, 'app'), { 'index.php': 'v1\n' });
  const config = writeConfig(home, {
    application: 'cached',
    source: 'app',
    hosts: { here: { local: true, deploy_path: path.join(home, 'srv') } },
  });
  const deploy = () => run(['-c', config, 'here']);
  const version = (
    JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
  ).version;
  const cached = () => {
    const dir = path.join(cacheDir, 'code');
    const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    return files.map((n) => {
      const st = fs.statSync(path.join(dir, n));
      return { n, ino: st.ino, mtimeMs: st.mtimeMs, mode: st.mode & 0o777, size: st.size };
    });
  };

  it('makes the cache on the first run, and V8 takes it on the next (it is not made again)', () => {
    expect(deploy()).toMatch(/success/);
    const first = cached();
    expect(first).toHaveLength(1);
    expect(first[0]!.n).toMatch(/^[0-9a-f]{16}\.bin$/);
    expect(first[0]!.mode).toBe(0o600);
    expect(first[0]!.size).toBeGreaterThan(100_000);
    expect(deploy()).toMatch(/success/);
    expect(run()).toBe(version);
    // Made again only when missing or refused: the same file means V8 accepted it.
    expect(cached()).toEqual(first);
  });

  it('a damaged cache is refused, the CLI runs, and a good one replaces it', () => {
    const [entry] = cached();
    const file = path.join(cacheDir, 'code', entry!.n);
    fs.writeFileSync(file, Buffer.alloc(entry!.size, 7), { mode: 0o600 });
    expect(run()).toBe(version);
    expect(fs.readFileSync(file).equals(Buffer.alloc(entry!.size, 7))).toBe(false);
    const good = cached();
    expect(run()).toBe(version);
    expect(cached()).toEqual(good);
  });

  it('a cache others may write is never read: it is made anew', () => {
    const [entry] = cached();
    const file = path.join(cacheDir, 'code', entry!.n);
    fs.chmodSync(file, 0o666);
    const before = fs.statSync(file).ino;
    expect(run()).toBe(version);
    const after = fs.statSync(file);
    expect(after.ino).not.toBe(before);
    expect(after.mode & 0o777).toBe(0o600);
  });
});
