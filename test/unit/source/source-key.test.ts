import { describe, expect, it } from 'vitest';
import type { SourceEntry } from '../../../src/source/scan.js';
import type { SourceInfo } from '../../../src/source/source-info.js';
import type { AppPersistence } from '../../../src/persistence/app-persistence.js';
import { recordKey } from '../../../src/engine/unchanged.js';
import { sourceKey } from '../../../src/source/source-key.js';

const NOW = 1_800_000_000_000;
const file = (p: string, over: Partial<SourceEntry> = {}): SourceEntry => ({
  path: p,
  type: 'file',
  mode: 0o644,
  size: 10,
  mtimeMs: NOW - 60_000.5,
  ctimeMs: NOW - 60_000.25,
  ino: 42,
  ...over,
});
const dir = (p: string, over: Partial<SourceEntry> = {}): SourceEntry => ({
  ...file(p, { type: 'dir', size: 0, ino: 7 }),
  ...over,
});
// A new object every time: keys are remembered per source object.
const keyOf = (entries: SourceEntry[], over: Partial<SourceInfo> = {}, now = NOW) =>
  sourceKey({ root: '/app', entries, revision: 'abc', ...over }, now);
const base = () => [dir('app'), file('app/a.php'), file('b.txt', { ino: 43 })];

describe('sourceKey', () => {
  it('is the same for the same tree and changes with anything a file or entry is', () => {
    const key = keyOf(base());
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(keyOf(base())).toBe(key);
    const changed = (f: (e: SourceEntry[]) => unknown, over: Partial<SourceInfo> = {}) => {
      const e = base();
      f(e);
      return keyOf(e, over);
    };
    const changes: [what: string, change: (e: SourceEntry[]) => unknown, over?: Partial<SourceInfo>][] = [
      ['a write (ctime)', (e) => (e[1]!.ctimeMs = NOW - 30_000.5)],
      ['size', (e) => (e[1]!.size = 11)],
      ['a file replaced', (e) => (e[1]!.ino = 99)],
      ['mode', (e) => (e[2]!.mode = 0o755)],
      ['a file gone', (e) => e.pop()],
      ['a file added', (e) => e.push(file('c.txt'))],
      ['REVISION', () => undefined, { revision: 'abd' }],
      ['another checkout', () => undefined, { root: '/other' }],
      ['mtime', (e) => (e[1]!.mtimeMs = NOW - 50_000.5)],
      ['tracked by git', (e) => (e[1]!.tracked = true)],
      ['a directory mode', (e) => (e[0]!.mode = 0o700)],
      ['an artifact', () => undefined, { artifact: { id: 'a1', store: {} as never } }],
    ];
    for (const [what, change, over] of changes) expect(changed(change, over), what).not.toBe(key);
    const link = (target: string) =>
      keyOf([...base(), { ...file('l'), type: 'symlink', linkTarget: target }]);
    expect(link('app/a.php')).not.toBe(link('b.txt'));
    // A directory is its path and mode: a file made and removed in it changes its times only.
    expect(changed((e) => (e[0]!.mtimeMs = e[0]!.ctimeMs = NOW - 5_000.5))).toBe(key);
  });

  it('is undefined while a file may still change without its lstat showing it', () => {
    expect(keyOf([file('a', { mtimeMs: NOW - 50.5, ctimeMs: NOW - 50.5 })])).toBeUndefined();
    expect(keyOf([file('a', { mtimeMs: NOW - 150.5, ctimeMs: NOW - 150.5 })])).toMatch(/^[0-9a-f]{32}$/);
    // Whole seconds in either: perhaps a file system that keeps no more (FAT's mtime), so two seconds.
    expect(keyOf([file('a', { mtimeMs: NOW - 1_000, ctimeMs: NOW - 1_000 })])).toBeUndefined();
    expect(keyOf([file('a', { mtimeMs: NOW - 1_000, ctimeMs: NOW - 990.5 })])).toBeUndefined();
    expect(keyOf([file('a', { mtimeMs: NOW - 3_000, ctimeMs: NOW - 3_000 })])).toMatch(/^[0-9a-f]{32}$/);
    expect(keyOf([file('a', { ino: undefined })])).toBeUndefined();
    // A commit's blob is its content id, however recent the times.
    expect(
      keyOf([file('a', { ino: undefined, ctimeMs: undefined, mtimeMs: NOW, oid: 'f'.repeat(40) })]),
    ).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('recordKey', () => {
  it('adds what the recipe made of the source, but not its warnings', () => {
    const persistence = (over: Partial<AppPersistence> = {}) =>
      ({ recipe: 'laravel', shared_dirs: ['storage'], warnings: [], ...over }) as unknown as AppPersistence;
    const key = recordKey({ root: '/app', entries: base() }, persistence(), NOW);
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(recordKey({ root: '/app', entries: base() }, persistence({ warnings: ['x'] }), NOW)).toBe(key);
    expect(recordKey({ root: '/app', entries: base() }, persistence({ shared_dirs: [] }), NOW)).not.toBe(key);
    expect(
      recordKey({ root: '/app', entries: [file('a', { ino: undefined })] }, persistence(), NOW),
    ).toBeUndefined();
  });
});
