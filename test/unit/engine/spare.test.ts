import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployPaths } from '../../../src/layout/paths.js';
import {
  planReturnOrRemove,
  planTakeSpare,
  spareFiles,
  spareManifest,
  spareOrigin,
  spareTree,
} from '../../../src/layout/spare.js';
import { defineRemoveRelease, planRemoveRelease } from '../../../src/persistence/rescue.js';
import { lines, type ShellText } from '../../../src/remote/sh.js';
import { needs } from '../../support/requirements.js';

/** Runs a script by /bin/sh; `args` are its $1, $2 …; returns its stdout. */
const run = (script: ShellText | string, args: string[] = []) =>
  execFileSync('/bin/sh', ['-c', typeof script === 'string' ? script : script.text, 'sh', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

function deployRoot() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "spare it's-"));
  const paths = deployPaths(root);
  for (const r of ['20260101-000001', '20260101-000002']) {
    fs.mkdirSync(path.join(paths.releases, r), { recursive: true });
    fs.writeFileSync(path.join(paths.releases, r, 'name'), r);
  }
  return paths;
}

describe('the spare (run by /bin/sh on a real tree)', () => {
  it('moves into the empty new release, its own directory removed; a spare that vanished or is a symlink fails with a message and moves nothing', () => {
    const paths = deployRoot();
    // What the cleanup makes of a pruned release (stages/cleanup.ts, tested with the rescue).
    fs.mkdirSync(paths.meta, { recursive: true });
    fs.renameSync(path.join(paths.releases, '20260101-000001'), spareTree(paths));
    fs.writeFileSync(spareFiles(paths), 'the probe walk\0');
    const next = path.join(paths.releases, '20260101-000003');
    fs.mkdirSync(next);
    const walk = path.join(paths.meta, 'seed-20260101-000003.spare');
    run(planTakeSpare(paths, '20260101-000003', next, walk));
    expect(fs.readFileSync(path.join(next, 'name'), 'utf8')).toBe('20260101-000001');
    expect(fs.readdirSync(next).sort()).toEqual(['name']);

    expect(fs.existsSync(spareTree(paths))).toBe(false);
    // The probe's walk of the spare stays for the seed check, under the release's name.
    expect(fs.readFileSync(walk, 'utf8')).toBe('the probe walk\0');
    expect(fs.existsSync(spareFiles(paths))).toBe(false);

    const other = path.join(paths.releases, '20260101-000004');
    fs.mkdirSync(other);
    expect(() => run(planTakeSpare(paths, '20260101-000004', other, walk))).toThrow(
      /disappeared after the probe listed it/,
    );
    fs.symlinkSync(path.join(paths.releases, '20260101-000002'), spareTree(paths));
    expect(() => run(planTakeSpare(paths, '20260101-000004', other, walk))).toThrow(/disappeared/);
    expect(fs.readdirSync(other)).toEqual([]);
    expect(fs.readFileSync(path.join(paths.releases, '20260101-000002', 'name'), 'utf8')).toBe(
      '20260101-000002',
    );
    fs.rmSync(paths.root, { recursive: true });
  });

  it('leaves a process still running from the pruned release writing into nothing, not into the new release', () => {
    const paths = deployRoot();
    fs.mkdirSync(paths.meta, { recursive: true });
    fs.mkdirSync(path.join(paths.releases, '20260101-000001', 'cache'));
    fs.renameSync(path.join(paths.releases, '20260101-000001'), spareTree(paths));
    const next = path.join(paths.releases, '20260101-000003');
    fs.mkdirSync(next);
    const walk = path.join(paths.meta, 'seed-20260101-000003.spare');
    // A worker started from the release before it was pruned: its working directory is the
    // spare's own directory. It writes once the new release is made (after the seed check).
    const late = execFileSync(
      '/bin/sh',
      [
        '-c',
        `cd "$1" && sh -c "$2" && { echo late > export.csv && echo wrote || echo refused; } && { echo late > cache/x || echo refused; }`,
        'sh',
        spareTree(paths),
        planTakeSpare(paths, '20260101-000003', next, walk).text,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    expect(late.trim().split('\n')).toEqual(['refused', 'refused']);
    expect(fs.readdirSync(next).sort()).toEqual(['cache', 'name']);
    expect(fs.readdirSync(path.join(next, 'cache'))).toEqual([]);
    expect(fs.existsSync(spareTree(paths))).toBe(false);
    fs.rmSync(paths.root, { recursive: true });
  });

  it('a deploy stopped before its seed check gives the entries back to the spare, bound to its list, also when stopped halfway through the move', () => {
    for (const halfway of [false, true, 'before the spare drops its own list'] as const) {
      const paths = deployRoot();
      fs.mkdirSync(paths.meta, { recursive: true });
      fs.mkdirSync(path.join(paths.releases, '20260101-000001', 'exports'));
      fs.renameSync(path.join(paths.releases, '20260101-000001'), spareTree(paths));
      // What the cleanup that kept it wrote: its release's name and its directory's inode, its list.
      fs.writeFileSync(spareOrigin(paths), `20260101-000001\n${fs.statSync(spareTree(paths)).ino}\n`);
      fs.writeFileSync(spareManifest(paths), 'the list\n');
      const next = path.join(paths.releases, '20260101-000003');
      fs.mkdirSync(next);
      const take = planTakeSpare(paths, '20260101-000003', next, path.join(paths.meta, 'walk')).text;
      // Halfway: one entry moved, the rest of the take (the spare's directory, name, list) not yet.
      // Or the spare's directory gone, its own name and list not yet (the take's last line).
      const stopped =
        halfway === true
          ? take.replace(/^__ss_take=0[^]*$/m, 'mv -- "$1"/exports "$2"/')
          : halfway
            ? take.replace(/\nrm -f [^\n]*$/, '')
            : take;
      run(stopped, [spareTree(paths), next]);
      expect(fs.existsSync(spareTree(paths))).toBe(halfway === true);
      // A worker, its working directory in exports/ (it moved with it), writes its export.
      fs.writeFileSync(path.join(next, 'exports', 'order.csv'), 'written meanwhile');
      // Under set -e, as discard runs it (engine/compose.ts): every step's status counts.
      const back = run(`set -e\n${planReturnOrRemove(paths, '20260101-000003', next).text}`);
      expect(back).toContain('@@shipshape-spare-returned');
      expect(fs.existsSync(next)).toBe(false);
      expect(fs.readFileSync(path.join(spareTree(paths), 'exports', 'order.csv'), 'utf8')).toBe(
        'written meanwhile',
      );
      expect(fs.readFileSync(path.join(spareTree(paths), 'name'), 'utf8')).toBe('20260101-000001');
      // The list is the spare's again: the next probe checks the spare against it and rescues.
      expect(fs.readFileSync(spareManifest(paths), 'utf8')).toBe('the list\n');
      const [name, ino] = fs.readFileSync(spareOrigin(paths), 'utf8').split('\n');
      expect(name).toBe('20260101-000001');
      expect(ino).toBe(String(fs.statSync(spareTree(paths)).ino));
      expect(fs.readdirSync(paths.meta).filter((f) => f.startsWith('seed-'))).toEqual([]);
      fs.rmSync(paths.root, { recursive: true });
    }
  });

  it('any other failed release is removed', () => {
    const paths = deployRoot();
    fs.mkdirSync(paths.meta, { recursive: true });
    const failed = path.join(paths.releases, '20260101-000002');
    expect(run(planReturnOrRemove(paths, '20260101-000002', failed))).not.toContain('returned');
    expect(fs.existsSync(failed)).toBe(false);
    expect(fs.existsSync(spareTree(paths))).toBe(false);
    fs.rmSync(paths.root, { recursive: true });
  });

  it("a list kept for another directory is not given back as the spare's own after a stopped deploy", () => {
    const paths = deployRoot();
    fs.mkdirSync(paths.meta, { recursive: true });
    fs.renameSync(path.join(paths.releases, '20260101-000001'), spareTree(paths));
    // Left beside another spare: its inode is not the spare's, so the spare is not checked by it.
    fs.writeFileSync(spareOrigin(paths), '20251231-000000\n1\n');
    fs.writeFileSync(spareManifest(paths), "another release's list\n");
    const next = path.join(paths.releases, '20260101-000003');
    fs.mkdirSync(next);
    run(planTakeSpare(paths, '20260101-000003', next, path.join(paths.meta, 'walk')));
    expect(run(planReturnOrRemove(paths, '20260101-000003', next))).toContain('@@shipshape-spare-returned');
    expect(fs.readFileSync(path.join(spareTree(paths), 'name'), 'utf8')).toBe('20260101-000001');
    expect(fs.existsSync(spareManifest(paths))).toBe(false);
    fs.rmSync(paths.root, { recursive: true });
  });

  it('a release a cut-off deploy left holding the spare it took: the next cleanup rescues what was written into it', () => {
    for (const to of ['spare', 'trash'] as const) {
      const paths = deployRoot();
      fs.mkdirSync(paths.meta, { recursive: true });
      fs.mkdirSync(path.join(paths.releases, '20260101-000001', 'exports'));
      fs.renameSync(path.join(paths.releases, '20260101-000001'), spareTree(paths));
      const list = run(`cd "$1" && find . -mindepth 1 ! -type d -printf '%s\\t%T@\\t%i\\t%P\\0'`, [
        spareTree(paths),
      ]);
      fs.writeFileSync(spareManifest(paths), list);
      fs.writeFileSync(spareOrigin(paths), `20260101-000001\n${fs.statSync(spareTree(paths)).ino}\n`);
      const next = path.join(paths.releases, '20260101-000003');
      fs.mkdirSync(next);
      run(planTakeSpare(paths, '20260101-000003', next, path.join(paths.meta, 'walk')));
      // The connection drops before the seed check: no discard runs. A worker writes its export.
      fs.writeFileSync(path.join(next, 'exports', 'order.csv'), 'written meanwhile');
      // The seed's own walk files, left as the deploy was cut off, go with the release.
      for (const kind of ['err', 'links', 'spare']) {
        fs.writeFileSync(path.join(paths.meta, `seed-20260101-000003.${kind}`), '');
      }
      fs.writeFileSync(path.join(paths.meta, 'seed-20260101-000004.err'), 'another deploy’s');
      // The next deploy prunes the abandoned release (logged `started`, never live).
      const out = run(lines(defineRemoveRelease(paths, []), planRemoveRelease('20260101-000003', to)));
      expect(out).toContain('@@shipshape-rescued 20260101-000001 1');
      expect(
        fs.readFileSync(
          path.join(paths.shared, '.rescued', '20260101-000001', 'exports', 'order.csv'),
          'utf8',
        ),
      ).toBe('written meanwhile');
      expect(fs.existsSync(next)).toBe(false);
      expect(fs.readdirSync(paths.meta).filter((f) => f.startsWith('seed-'))).toEqual([
        'seed-20260101-000004.err',
      ]);
      if (to === 'spare') {
        // Still bound to its list, so what is written into it later is checked too.
        expect(fs.readFileSync(spareManifest(paths), 'utf8')).toBe(list);
        expect(fs.readFileSync(spareOrigin(paths), 'utf8')).toBe(
          `20260101-000001\n${fs.statSync(spareTree(paths)).ino}\n`,
        );
      }
      fs.rmSync(paths.root, { recursive: true });
    }
  });

  it('moves whole, as before, when an entry will not move: a directory the deploy user may not write (run as another user)', (ctx) => {
    needs(ctx, process.getuid?.() === 0 ? undefined : 'root, to run the take as another user');
    const paths = deployRoot();
    fs.mkdirSync(paths.meta, { recursive: true });
    fs.mkdirSync(path.join(paths.releases, '20260101-000001', 'ro'));
    fs.writeFileSync(path.join(paths.releases, '20260101-000001', 'ro', 'kept.txt'), 'kept');
    fs.renameSync(path.join(paths.releases, '20260101-000001'), spareTree(paths));
    fs.writeFileSync(spareOrigin(paths), `20260101-000001\n${fs.statSync(spareTree(paths)).ino}\n`);
    fs.writeFileSync(spareManifest(paths), 'the list\n');
    const next = path.join(paths.releases, '20260101-000003');
    fs.mkdirSync(next);
    execFileSync('chown', ['-R', 'nobody', paths.root]);
    // Moving a directory to another parent rewrites its `..`: a user who may not write it cannot.
    fs.chmodSync(path.join(spareTree(paths), 'ro'), 0o555);
    const spareIno = fs.statSync(spareTree(paths)).ino;
    const take = planTakeSpare(paths, '20260101-000003', next, path.join(paths.meta, 'walk')).text;
    execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '/bin/sh', '-c', take], {
      stdio: 'pipe',
    });
    expect(fs.readdirSync(next).sort()).toEqual(['name', 'ro']);
    expect(fs.readFileSync(path.join(next, 'ro', 'kept.txt'), 'utf8')).toBe('kept');
    expect(fs.existsSync(spareTree(paths))).toBe(false);
    // The release is the spare's directory now; a stopped deploy would find it by that inode.
    expect(fs.statSync(next).ino).toBe(spareIno);
    const taken = fs.readFileSync(path.join(paths.meta, 'seed-20260101-000003.spare-name'), 'utf8');
    expect(taken).toBe(`20260101-000001\n${spareIno}\n`);
    fs.chmodSync(path.join(next, 'ro'), 0o755);
    fs.rmSync(paths.root, { recursive: true });
  });
});
