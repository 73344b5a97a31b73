import { describe, expect, it } from 'vitest';
import { uploadEntries } from '../../../src/persistence/upload-entries.js';
import type { SourceEntry } from '../../../src/source/scan.js';

const e = (path: string, type: SourceEntry['type'] = 'file', tracked?: boolean): SourceEntry => ({
  path,
  type,
  mode: type === 'dir' ? 0o755 : 0o644,
  size: 0,
  mtimeMs: 0,
  ...(tracked === undefined ? {} : { tracked }),
});

// duplicates: a tree as data, one entry a line; alike in shape only.
/** A Laravel-like tree in a git work tree: what git tracks under storage/, and what it does not. */
const source = [
  e('.env', 'file', false),
  e('app', 'dir'),
  e('app/x.php', 'file', true),
  e('database', 'dir'),
  e('database/database.sqlite', 'file', false),
  e('storage', 'dir'),
  e('storage/app', 'dir'),
  e('storage/app/public', 'dir'),
  e('storage/app/public/.gitignore', 'file', true),
  e('storage/logs', 'dir'),
  e('storage/logs/laravel.log', 'file', false),
  e('storage/framework', 'dir'),
  e('storage/framework/sessions', 'dir'),
  e('storage/framework/sessions/abc', 'file', false),
];
const persistence = {
  shared_dirs: ['storage'],
  shared_files: [
    { path: '.env', optional: false, when_absent: 'link' as const },
    { path: 'database/database.sqlite', optional: true, when_absent: 'empty' as const },
  ],
  seed_shared: [] as string[],
};
const paths = (list: SourceEntry[]) => list.map((x) => x.path);

describe('uploadEntries: what a host is sent', () => {
  it('never the local contents of shared paths once shared/ holds them', () => {
    expect(paths(uploadEntries(source, persistence, new Set()))).toEqual(['app', 'app/x.php', 'database']);
  });

  it('on a first deploy, a shared dir’s git-tracked files and their parents only: no log, no session', () => {
    const got = paths(
      uploadEntries(source, persistence, new Set(['storage', '.env', 'database/database.sqlite'])),
    );
    expect(got).toEqual([
      'app',
      'app/x.php',
      'database',
      'storage',
      'storage/app',
      'storage/app/public',
      'storage/app/public/.gitignore',
    ]);
  });

  it('outside git nothing seeds (nothing is known to be tracked)', () => {
    const plain = source.map(({ tracked: _t, ...rest }) => rest);
    expect(paths(uploadEntries(plain, persistence, new Set(['storage', '.env'])))).toEqual([
      'app',
      'app/x.php',
      'database',
    ]);
  });

  it('seed_shared sends everything of that path while shared/ lacks it, and nothing once it has it', () => {
    const seeding = { ...persistence, seed_shared: ['.env', 'storage'] };
    const absent = uploadEntries(source, seeding, new Set(['storage', '.env']));
    expect(paths(absent)).toContain('.env');
    expect(paths(absent)).toContain('storage/logs/laravel.log');
    expect(paths(absent)).not.toContain('database/database.sqlite');
    expect(paths(uploadEntries(source, seeding, new Set()))).toEqual(['app', 'app/x.php', 'database']);
  });
});
