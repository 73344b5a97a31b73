import { describe, expect, it } from 'vitest';
import { isInsidePath, isSafeRelative } from '../../src/config/paths.js';
import { currentLinkText, deployPaths, releaseDir } from '../../src/layout/paths.js';
import { discard } from '../../src/stages/discard.js';
import { switchCurrent } from '../../src/stages/symlink.js';
import type { ReleaseContext } from '../../src/stages/types.js';

describe('path helpers', () => {
  it('one rule for a path inside the release; deploy.yml may add a trailing slash', () => {
    for (const bad of [
      '',
      '/etc',
      '..',
      'a/../b',
      'a//b',
      './a',
      'a/.',
      'a\0b',
      'a/..',
      '../a',
      '.',
      'a/./b',
    ]) {
      expect(isInsidePath(bad), bad).toBe(false);
      expect(isSafeRelative(bad), bad).toBe(false);
    }
    expect(isInsidePath('storage/app')).toBe(true);
    for (const good of ['.env', '..a', 'a/..b', '...', 'a/.hidden/b', 'b/.../c', 'x'])
      expect(isInsidePath(good), good).toBe(true);
    expect(isInsidePath('storage/')).toBe(false);
    expect(isSafeRelative('storage/')).toBe(true);
  });

  it('the switch and discard compare current with the same link text', () => {
    const paths = deployPaths('/srv/app');
    const name = '20300101-000001';
    expect(currentLinkText(name)).toBe(`releases/${name}`);
    expect(switchCurrent(paths, name).text).toContain(`ln -s ${currentLinkText(name)} `);
    const ctx = {
      paths,
      release: name,
      releasePath: releaseDir(paths, name),
      run: { user: 'u', machine: 'm', started_at: '2030-01-01T00:00:00Z' },
      source: {},
      reason: 'x',
    } as unknown as ReleaseContext & { reason: string };
    expect(discard.plan(ctx as never)[0]!.text).toContain(`= ${currentLinkText(name)} ]`);
  });
});
