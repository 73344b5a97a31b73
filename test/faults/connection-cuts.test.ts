import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logOf, releasesOf } from '../support/project.js';
import {
  currentOf,
  faultProject,
  lockHeld,
  recover,
  useFaultLab,
  withSharedAudit,
  type FaultLab,
  type FaultProject,
  type Pause,
} from './support/fault-lab.js';
import { recordScenario } from './support/reliability.js';

let lab: FaultLab;
useFaultLab('cuts', (l) => (lab = l));

/** Deploys `n` times so the host has a live release (and, with keep_releases 3, something to prune). */
async function deployed(name: string, n: number, files?: Record<string, string>): Promise<FaultProject> {
  const p = faultProject(lab, name, { files });
  await p.deployed(n);
  return p;
}

/**
 * Holds the remote script inside one command of `stage`, drops every connection once the CLI has
 * printed that the stage started (its marker can still be in flight when the command pauses), and
 * waits for the remote side to end.
 */
async function cutDuring(p: FaultProject, args: string[], stage: string, pause: Pause) {
  lab.pauseAt(pause);
  let heard!: () => void;
  const started = new Promise<void>((resolve) => (heard = resolve));
  const running = p.cli(args, { onStdout: (out) => out.includes(`> ${stage}:`) && heard() });
  await Promise.all([lab.paused(), started]);
  lab.proxy.cut();
  const r = await running;
  await lab.pauseOver();
  return r;
}

interface Cut {
  stage: string;
  pause: Pause;
  /** The new release may be live afterwards: the cut came while or after `current` moved. */
  mayBeLive?: boolean;
  /** Where the pause holds the remote script, in the table's words. */
  where: string;
}

const cuts = (deployPath: string): Cut[] => [
  {
    stage: 'setup',
    where: 'while creating the layout',
    pause: { command: 'mkdir', needle: `${deployPath}/releases ${deployPath}/shared`, when: 'before' },
  },
  {
    stage: 'lock',
    where: 'at the lock `mkdir`',
    pause: { command: 'mkdir', needle: '.deploy/lock', when: 'before' },
  },
  {
    stage: 'shared',
    where: 'while linking shared/storage into the release',
    pause: { command: 'ln', needle: 'shared/storage', when: 'before' },
  },
  {
    stage: 'symlink',
    where: 'just before the rename over `current`',
    pause: { command: 'mv', needle: '.current.', when: 'before' },
    mayBeLive: true,
  },
  {
    stage: 'symlink',
    where: 'just after the rename over `current`',
    pause: { command: 'mv', needle: '.current.', when: 'after' },
    mayBeLive: true,
  },
  {
    stage: 'cleanup',
    where: 'while pruning an old release',
    // Pruning is one rename: the newest pruned release becomes .deploy/spare, older ones go to
    // .deploy/trash (deleted in the background later). This deploy prunes one: the spare.
    pause: { command: 'mv', needle: `${deployPath}/.deploy/spare`, when: 'before' },
    mayBeLive: true,
  },
  {
    stage: 'unlock',
    where: 'while releasing the lock',
    pause: { command: 'grep', needle: '.deploy/lock/owner.json', when: 'before' },
    mayBeLive: true,
  },
  {
    stage: 'upload',
    where: 'just after the spare (a pruned release) was moved into the new release',
    pause: { command: 'mv', needle: `-n -t ${deployPath}/releases/`, when: 'after' },
  },
];

describe('a connection cut in the middle of each deploy stage', () => {
  // Three deploys first: the fourth has a release to prune, so cleanup has work to be cut in.
  // Four for upload-spare: the fourth prunes the first into .deploy/spare, the cut deploy takes it.
  const names = [
    'setup',
    'lock',
    'shared',
    'symlink-before',
    'symlink-after',
    'cleanup',
    'unlock',
    'upload-spare',
  ];
  const deploysFirst: Record<string, number> = { cleanup: 3, 'upload-spare': 4 };
  it.each(names.map((n, i) => [n, i] as const))('%s', async (name, i) => {
    const p = await deployed(`cut-${name}`, deploysFirst[name] ?? 1);
    const cut = cuts(p.deployPath)[i]!;
    const before = currentOf(p.deployPath)!;
    const beforeReleases = releasesOf(p.deployPath);

    const { audited } = await withSharedAudit(p.deployPath, async () => {
      const r = await cutDuring(p, [], cut.stage, cut.pause);
      expect(r.code, r.output).toBe(5);
      expect(r.stderr, r.output).toContain(`ECONNLOST: web: connection lost during stage \`${cut.stage}\``);
      const now = currentOf(p.deployPath)!;
      if (now === before) {
        expect(r.stderr).not.toContain('already points at the new, complete release');
      } else {
        expect(cut.mayBeLive, `current moved to ${now} after a cut in ${cut.stage}`).toBe(true);
        expect(beforeReleases).not.toContain(now);
        expect(fs.existsSync(path.join(p.deployPath, 'releases', now, 'index.php'))).toBe(true);
        expect(r.stderr).toMatch(/`current` (may )?already points? at the new/);
      }
      if (!cut.mayBeLive) expect(now).toBe(before);
      const recovered = await recover(p);
      return recovered;
    });

    // Whatever the cut left behind (a started release, an empty directory) is gone after one deploy.
    const history = new Map(logOf(p.deployPath).map((l) => [l.name, l.status]));
    for (const r of releasesOf(p.deployPath)) expect(history.get(r), r).toBe('success');
    expect(releasesOf(p.deployPath).length).toBeLessThanOrEqual(4);

    recordScenario({
      group: 'connection cuts',
      how: 'sshd',
      scenario: `deploy cut in \`${cut.stage}\` ${cut.where}`,
      runs: 1,
      result: `exit 5 naming \`${cut.stage}\`; ${cut.mayBeLive ? '`current` on the old or the new complete release, output says which may be live' : '`current` unchanged'}; next deploy succeeds (after \`deploy unlock\` when the lock was left); ${audited} shared files intact`,
      guarantee: cut.mayBeLive
        ? 'A dropped link after the switch never leaves a half release live and the user is told'
        : 'A dropped link before the switch changes nothing live; leftovers are cleaned by the next deploy',
    });
  });

  it('upload: cut while the archive is streaming', async () => {
    const p = await deployed('cut-upload', 1);
    const before = currentOf(p.deployPath)!;
    // Larger than the SSH channel window, so the stream is still going when the remote tar is held.
    fs.writeFileSync(path.join(p.source, 'assets.bin'), crypto.randomBytes(6_000_000));

    const { audited } = await withSharedAudit(p.deployPath, async () => {
      const sentBefore = lab.proxy.bytes().up;
      const r = await cutDuring(p, [], 'upload', { command: 'tar', needle: '-x', when: 'before' });
      const sent = lab.proxy.bytes().up - sentBefore;
      expect(sent).toBeLessThan(6_000_000);
      expect(r.code, r.output).toBe(5);
      expect(r.stderr).toContain('ECONNLOST: web: connection lost during stage `upload`');
      expect(r.stderr).toContain('`current` was not touched');
      expect(currentOf(p.deployPath)).toBe(before);
      return recover(p);
    });

    const history = new Map(logOf(p.deployPath).map((l) => [l.name, l.status]));
    for (const r of releasesOf(p.deployPath)) expect(history.get(r), r).toBe('success');
    // Hashes: a deep equality of two 6 MB buffers takes vitest most of a minute.
    const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
    expect(sha(path.join(p.deployPath, 'current/assets.bin'))).toBe(sha(path.join(p.source, 'assets.bin')));
    recordScenario({
      group: 'connection cuts',
      how: 'sshd',
      scenario: 'deploy cut in `upload` while a 6 MB archive is streaming',
      runs: 1,
      result: `exit 5 naming \`upload\`; \`current\` unchanged; the partial release is removed by the next deploy, which uploads it whole; ${audited} shared files intact`,
      guarantee: 'A half-uploaded release is never switched to and never kept',
    });
  });
});

describe('a connection cut during rollback', () => {
  it('rollback: cut at the switch', async () => {
    const p = await deployed('cut-rollback', 2);
    const [older, newer] = releasesOf(p.deployPath);
    expect(currentOf(p.deployPath)).toBe(newer);

    const { audited } = await withSharedAudit(p.deployPath, async () => {
      const r = await cutDuring(p, ['rollback', 'web'], 'rollback', {
        command: 'mv',
        needle: '.current.',
        when: 'before',
      });
      expect(r.code, r.output).toBe(5);
      expect(r.stderr).toContain('ECONNLOST: web: connection lost during stage `rollback`');
      // The rename was under way: the only honest answer is "check".
      expect(r.stderr).toMatch(/`current` may already point/);
      // Nor may a line claim the host is still on the release it may have left.
      expect(r.output).not.toMatch(/still on|\bunchanged\b/);
      expect([older, newer]).toContain(currentOf(p.deployPath));
      if (lockHeld(p.deployPath)) {
        const u = await p.cli(['unlock', 'web']);
        expect(u.code, u.output).toBe(0);
      }
      const again = await p.cli(['rollback', 'web', '--to', older!]);
      expect([0, 1], again.output).toContain(again.code);
      expect(currentOf(p.deployPath)).toBe(older);
      return recover(p);
    });
    recordScenario({
      group: 'connection cuts',
      how: 'sshd',
      scenario: 'rollback cut at the switch',
      runs: 1,
      result: `exit 5 naming \`rollback\`, output says \`current\` may have moved; \`current\` on one of the two complete releases; unlock, rollback and deploy work after; ${audited} shared files intact`,
      guarantee: 'A dropped link during rollback leaves a complete release live and a way forward',
    });
  });
});
