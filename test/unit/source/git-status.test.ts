import { describe, expect, it } from 'vitest';
import { parseWorkTreeView } from '../../../src/source/git-status.js';

const z = (...fields: string[]) => Buffer.from(fields.map((f) => `${f}\0`).join(''));

// duplicates: porcelain records as data; alike in shape to other tests' string arguments only.
describe('parseWorkTreeView', () => {
  it('reads ignored entries, changes and tracked paths of the source below the top of the work tree', () => {
    const status = z(
      ' M app/index.php',
      'A  app/new.php',
      ' D app/gone.php',
      '?? app/notes/',
      'UU app/conflict.php',
      '!! app/node_modules/',
      '!! app/secret.local',
      '?? other/outside.txt',
      '!! other/ignored.txt',
    );
    const index = z('index.php', 'gone.php', 'lib/a/b.php', 'new.php', 'conflict.php');
    const view = parseWorkTreeView(status, index, 'app/');
    expect([...view.ignored]).toEqual(['node_modules/', 'secret.local']);
    expect(view.changes).toEqual([
      { path: 'index.php', kind: 'modified' },
      { path: 'new.php', kind: 'added' },
      { path: 'gone.php', kind: 'deleted' },
      { path: 'notes/', kind: 'untracked' },
      { path: 'conflict.php', kind: 'unmerged' },
    ]);
    expect([...view.tracked].sort()).toEqual(
      ['conflict.php', 'gone.php', 'index.php', 'lib', 'lib/a', 'lib/a/b.php', 'new.php'].sort(),
    );
    expect(view.blobs).toBeUndefined();
  });

  it('with --stage, knows the blob of every tracked file the work tree holds unchanged', () => {
    const oid = (c: string) => c.repeat(40);
    const index = z(
      `100644 ${oid('a')} 0\tindex.php`,
      `100755 ${oid('b')} 0\tbin/run`,
      `160000 ${oid('c')} 0\tvendor/sub`,
    );
    const view = parseWorkTreeView(z(' M index.php'), index, '', true);
    expect([...view.blobs!]).toEqual([['bin/run', oid('b')]]);
    expect(view.tracked.has('bin')).toBe(true);
  });
});
