import { describe, expect, it } from 'vitest';
import type { DryRunHost, PlannedUpload } from '../../../src/engine/dry-run.js';
import { formatDryRun } from '../../../src/ui/dry-run.js';

const nothingChanged: PlannedUpload = {
  files: 0,
  dirs: 0,
  symlinks: 0,
  bytes: 0,
  send: [],
  remove: [],
  kept: 3,
};

const host = (upload: PlannedUpload): DryRunHost => ({
  host: 'web',
  release: '20260102-000000',
  current: '20260101-000000',
  upload,
  phases: [],
  notes: [],
});

describe('the dry run’s upload lines', () => {
  it('count what changes against the previous release, and the spare’s corrections apart', () => {
    const withSpare = { ...nothingChanged, spare: { remove: ['junk.txt', 'old'], link: ['k1.txt'] } };
    const text = formatDryRun([host(withSpare)]);
    expect(text).toContain('  remove: 0 path(s) of the previous release, removed or replaced');
    expect(text).toContain(
      '  spare:  a pruned release renamed into place: 2 path(s) removed from it, 1 file(s) linked again',
    );
    expect(text).toContain('(-v lists the paths)');
    const verbose = formatDryRun([host(withSpare)], undefined, 1);
    expect(verbose).toContain('    spare: remove junk.txt\n    spare: remove old\n    spare: link k1.txt');
    expect(verbose).not.toMatch(/^ {4}remove /m);
  });

  it('say nothing of a spare when the release starts from the previous one', () => {
    const text = formatDryRun([host({ ...nothingChanged, remove: ['a.txt'] })], undefined, 1);
    expect(text).toContain('  remove: 1 path(s) of the previous release, removed or replaced');
    expect(text).toContain('    remove a.txt');
    expect(text).not.toContain('spare');
  });
});
