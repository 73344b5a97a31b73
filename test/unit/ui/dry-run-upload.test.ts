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

  it('show each file name on its own line: a newline or an escape in a name is text', () => {
    const odd = 'evil\n    remove index.html\u001b[2J';
    const shown = 'evil\\x0a    remove index.html\\x1b[2J';
    const upload = { ...nothingChanged, send: [odd], remove: [odd], spare: { remove: [odd], link: [odd] } };
    const source = { root: '/app', files: 1, ignored: [odd], changes: [odd] };
    const text = formatDryRun([{ ...host(upload), shared: { dirs: [odd], files: [] } }], source, 1);
    expect(text).toContain(`    send ${shown}\n`);
    expect(text).toContain(`    remove ${shown}\n`);
    expect(text).toContain(`    spare: remove ${shown}\n    spare: link ${shown}\n`);
    expect(text).toContain(`source: 1 uncommitted change(s): ${shown}\n`);
    expect(text).toContain(`source: left out by git's ignore rules: ${shown}\n`);
    expect(text).toContain(`  shared: ${shown}/`);
    // No line of the plan comes from inside a name.
    expect(text).not.toMatch(/^ {4}remove index\.html/m);
    expect(text).not.toContain('\u001b');
  });
});
