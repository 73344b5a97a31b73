import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logOf, releasesOf, snapshot, writeTree } from '../support/project.js';
import {
  currentOf,
  expectConsistent,
  faultProject,
  lockHeld,
  useFaultLab,
  USER_SHARED,
  withSharedAudit,
  type FaultLab,
} from './support/fault-lab.js';
import { recordScenario, scenarioNeeds } from './support/reliability.js';

let lab: FaultLab;
useFaultLab('server', (l) => (lab = l));

/** A line naming the release and calling it missing, in either order. */
const saysMissing = (release: string) => new RegExp(`${release}.*missing|missing.*${release}`);

const run = (cmd: string, args: string[]): boolean => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const usedBytes = (dir: string) => {
  const st = fs.statfsSync(dir);
  return (st.blocks - st.bfree) * st.bsize;
};

/** Everything under the deploy path except our own bookkeeping, which a refused run may touch. */
const userView = (deployPath: string) =>
  Object.fromEntries(Object.entries(snapshot(deployPath)).filter(([k]) => !k.startsWith('.deploy')));

describe('faults on the server', () => {
  it('disk full during upload', async (ctx) => {
    const p = faultProject(lab, 'disk-full', { direct: true });
    // A real full disk: a 2 MB tmpfs as the deploy path (mounting needs root, which CI has).
    fs.mkdirSync(p.deployPath, { recursive: true });
    const mounted = run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', p.deployPath]);
    scenarioNeeds(ctx, mounted ? undefined : 'a 2 MB tmpfs cannot be mounted (needs root and mount)');
    try {
      writeTree(path.join(p.deployPath, 'shared'), USER_SHARED);
      await p.deployed(1);
      const live = currentOf(p.deployPath);
      const used = usedBytes(p.deployPath);
      fs.writeFileSync(path.join(p.source, 'video.bin'), crypto.randomBytes(3_000_000));
      const { audited } = await withSharedAudit(p.deployPath, async () => {
        const r = await p.cli([]);
        expect(r.code, r.output).toBe(1);
        expect(r.stderr).toContain('ESTAGE: web: stage `upload` failed');
        expect(r.stderr).toContain('No space left on device');
        expect(r.stderr).toContain('`current` was not switched');
        expect(currentOf(p.deployPath)).toBe(live);
        expect(releasesOf(p.deployPath)).toEqual([live]);
        expect(lockHeld(p.deployPath)).toBe(false);
        // The partial release's space is given back (a few kB of log lines may remain).
        expect(usedBytes(p.deployPath) - used).toBeLessThan(64 * 1024);
        fs.rmSync(path.join(p.source, 'video.bin'));
        await p.deployed(1);
        expectConsistent(p.deployPath);
      });
      recordScenario({
        group: 'server-side faults',
        how: 'sshd',
        scenario: 'disk full during upload (3 MB into a 2 MB filesystem)',
        runs: 1,
        result: `exit 1 naming \`upload\` with "No space left on device"; \`current\` unchanged; the partial release removed and its space reclaimed; lock free; ${audited} shared files intact`,
        guarantee: 'A full disk fails the deploy cleanly and gives the space back',
      });
    } finally {
      run('umount', [p.deployPath]);
    }
  });

  it('permission denied on releases/', async (ctx) => {
    const p = faultProject(lab, 'no-permission', { direct: true });
    await p.deployed(1);
    const live = currentOf(p.deployPath);
    const releases = path.join(p.deployPath, 'releases');
    // As root, modes do not stop us: the immutable flag does (ext4 and tmpfs both have it).
    const immutable = run('chattr', ['+i', releases]);
    scenarioNeeds(ctx, immutable ? undefined : `chattr +i ${releases} failed (needs root and e2fsprogs)`);
    try {
      const { audited } = await withSharedAudit(p.deployPath, async () => {
        const r = await p.cli([]);
        expect(r.code, r.output).toBe(1);
        expect(r.stderr).toContain('ESTAGE: web: stage `release` failed');
        expect(r.stderr).toContain('Operation not permitted');
        expect(currentOf(p.deployPath)).toBe(live);
        expect(lockHeld(p.deployPath)).toBe(false);
        const history = new Map(logOf(p.deployPath).map((l) => [l.name, l.status]));
        expect([...history.values()].filter((s) => s === 'failed')).toHaveLength(1);
      });
      run('chattr', ['-i', releases]);
      await p.deployed(1);
      expectConsistent(p.deployPath);
      recordScenario({
        group: 'server-side faults',
        how: 'sshd',
        scenario: 'permission denied on releases/ (immutable directory)',
        runs: 1,
        result: `exit 1 naming \`release\` with the system's error; \`current\` unchanged; logged failed; lock free; the next deploy succeeds once fixed; ${audited} shared files intact`,
        guarantee: 'An unwritable releases/ fails before anything changes',
      });
    } finally {
      run('chattr', ['-i', releases]);
    }
  });

  it('current replaced by a real directory by hand', async () => {
    const p = faultProject(lab, 'current-dir', { direct: true });
    await p.deployed(2);
    const current = path.join(p.deployPath, 'current');
    fs.rmSync(current);
    writeTree(current, { 'index.php': 'hand-made\n', 'uploads/photo.jpg': 'only copy\n' });
    const before = userView(p.deployPath);
    const start = p.runs();
    const { audited } = await withSharedAudit(p.deployPath, async () => {
      const d = await p.cli([]);
      expect(d.code, d.output).toBe(1);
      expect(d.stderr).toContain(`ECURRENT: web: ${current} exists and is not a symlink`);
      expect(d.stderr).toContain('shipshape never deletes it for you');
      const rb = await p.cli(['rollback', 'web']);
      expect(rb.code, rb.output).toBe(1);
      expect(rb.stderr).toContain('ENOROLLBACK');
      const ls = await p.cli(['releases', 'web']);
      expect(ls.code, ls.output).toBe(0);
      expect(userView(p.deployPath)).toEqual(before);
      expect(lockHeld(p.deployPath)).toBe(false);
    });
    recordScenario({
      group: 'server-side faults',
      how: 'sshd',
      scenario: '`current` replaced by a real directory by hand',
      runs: p.runs() - start,
      result: `deploy exits 1 with ECURRENT and the hint to move it aside; rollback refuses (nothing is live); releases lists; every file under the deploy path unchanged; ${audited} shared files intact`,
      guarantee: 'shipshape never deletes a directory it did not make',
    });
  });

  it('a release directory deleted by hand', async () => {
    const p = faultProject(lab, 'deleted-release', { direct: true });
    await p.deployed(3);
    const [r1, r2] = releasesOf(p.deployPath);
    fs.rmSync(path.join(p.deployPath, 'releases', r2!), { recursive: true });
    const start = p.runs();
    const { audited } = await withSharedAudit(p.deployPath, async () => {
      const ls = await p.cli(['releases', 'web']);
      expect(ls.code, ls.output).toBe(0);
      expect(ls.stdout).toMatch(saysMissing(r2!));
      const rb = await p.cli(['rollback', 'web']);
      expect(rb.code, rb.output).toBe(0);
      expect(currentOf(p.deployPath)).toBe(r1);
      expect(rb.output).toMatch(saysMissing(r2!));
      // Now the live release itself goes missing: `current` dangles.
      fs.rmSync(path.join(p.deployPath, 'releases', r1!), { recursive: true });
      const ls2 = await p.cli(['releases', 'web']);
      expect(ls2.code, ls2.output).toBe(0);
      expect(ls2.stdout).toMatch(saysMissing(r1!));
      const d = await p.cli([]);
      expect(d.code, d.output).toBe(0);
      expect(d.output).toMatch(saysMissing(r1!));
      expectConsistent(p.deployPath);
    });
    recordScenario({
      group: 'server-side faults',
      how: 'sshd',
      scenario: 'release directories deleted by hand (one old, then the live one)',
      runs: p.runs() - start,
      result: `\`releases\` lists them as missing; rollback skips the missing one and says so; a deploy over a dangling \`current\` succeeds and says so; cleanup never trips on them; ${audited} shared files intact`,
      guarantee: 'Hand edits on the server are survived and reported, never papered over',
    });
  });
});
