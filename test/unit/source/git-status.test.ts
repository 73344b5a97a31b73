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
    const index = z('H index.php', 'H gone.php', 'H lib/a/b.php', 'H new.php', 'M conflict.php');
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
      `H 100644 ${oid('a')} 0\tindex.php`,
      `H 100755 ${oid('b')} 0\tbin/run`,
      `H 160000 ${oid('c')} 0\tvendor/sub`,
      `S 100644 ${oid('d')} 0\tbig/data.bin`,
    );
    const view = parseWorkTreeView(z(' M index.php'), index, '', true);
    expect([...view.blobs!]).toEqual([['bin/run', oid('b')]]);
    expect(view.tracked.has('bin')).toBe(true);
  });

  it('names the entries git status is told not to look at: sparse checkout (skip-worktree) and assume-unchanged', () => {
    const index = z('H index.php', 'S big/data.bin', 's lib/x.php', 'h config.php');
    const view = parseWorkTreeView(z(), index, '');
    expect(view.changes).toEqual([
      { path: 'big/data.bin', kind: 'skip-worktree' },
      { path: 'lib/x.php', kind: 'skip-worktree' },
      { path: 'config.php', kind: 'assume-unchanged' },
    ]);
    expect(view.tracked.has('big/data.bin')).toBe(true);
  });
});
