import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../../src/source/manifest.js';
import { sameAsRecorded } from '../../../src/source/same-content.js';
import type { SourceEntry } from '../../../src/source/scan.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const entry = (path: string, type: SourceEntry['type'], mode: number): SourceEntry => ({
  path,
  type,
  mode,
  size: 0,
  mtimeMs: 0,
});
const source: SourceEntry[] = [
  entry('app', 'dir', 0o755),
  entry('app/index.php', 'file', 0o644),
  { ...entry('app/link', 'symlink', 0o777), linkTarget: 'index.php' },
  entry('public/logo.png', 'file', 0o644),
];
const row = (e: SourceEntry): ManifestEntry => ({
  path: e.path,
  type: e.type,
  mode: e.mode,
  size: 0,
  mtime: 1,
  ...(e.type === 'file' ? { sha256: sha(e.path) } : {}),
  ...(e.linkTarget ? { link: e.linkTarget } : {}),
});
const revisionRow = (revision: string): ManifestEntry => ({
  path: 'REVISION',
  type: 'file',
  mode: 0o644,
  size: revision.length + 1,
  mtime: 1,
  sha256: sha(`${revision}\n`),
});
const recorded = [...source.map(row), revisionRow('abc123')];
/** As diffAgainst leaves it for an unchanged source: every file and link kept, the public file placed. */
const plan = {
  kept: new Map(recorded.filter((m) => m.path !== 'public/logo.png').map((m) => [m.path, m])),
  placed: new Map([['public/logo.png', row(source[3]!)]]),
};

/** The base on the server: its directory is there. */
const live = new Map([['app', { type: 'dir' }]]);
const same = (...a: [SourceEntry[], ManifestEntry[], typeof plan | object, string | undefined]) =>
  sameAsRecorded(a[0], a[1], a[2] as typeof plan, a[3], live);

describe('sameAsRecorded', () => {
  it('is true for the source the release was given, kept or placed, with the same REVISION', () => {
    expect(same(source, recorded, plan, 'abc123')).toBe(true);
    expect(same(source, source.map(row), plan, undefined)).toBe(true);
  });

  it('is false when anything a release is made of differs', () => {
    const notKept = { ...plan, kept: new Map([...plan.kept].filter(([p]) => p !== 'app/index.php')) };
    expect(same(source, recorded, notKept, 'abc123'), 'a file sent again').toBe(false);
    const linkSent = { ...plan, kept: new Map([...plan.kept].filter(([p]) => p !== 'app/link')) };
    expect(same(source, recorded, linkSent, 'abc123'), 'a symlink sent again').toBe(false);
    const notPlaced = { kept: plan.kept };
    expect(same(source, recorded, notPlaced, 'abc123'), 'a public file not placed').toBe(false);
    expect(same(source, recorded, plan, 'def456'), 'another REVISION').toBe(false);
    expect(same(source, recorded, plan, undefined), 'REVISION gone').toBe(false);
    expect(same(source, source.map(row), plan, 'abc123'), 'REVISION new').toBe(false);
    const chmod = source.map((e) => (e.path === 'app' ? { ...e, mode: 0o775 } : e));
    expect(same(chmod, recorded, plan, 'abc123'), 'a directory mode').toBe(false);
    expect(same(source.slice(1), recorded, plan, 'abc123'), 'a path removed').toBe(false);
    const added = [...source, entry('app/new', 'dir', 0o755)];
    expect(same(added, recorded, plan, 'abc123'), 'a path added').toBe(false);
    const gone = new Map<string, { type: string }>();
    expect(sameAsRecorded(source, recorded, plan, 'abc123', gone), 'a directory removed on the server').toBe(
      false,
    );
    const shared = new Map([['app', { type: 'symlink' }]]);
    expect(sameAsRecorded(source, recorded, plan, 'abc123', shared), 'a shared public entry').toBe(true);
    const retyped = source.map((e) => (e.path === 'app/link' ? entry('app/link', 'file', 0o777) : e));
    expect(same(retyped, recorded, plan, 'abc123'), 'a type').toBe(false);
  });
});
