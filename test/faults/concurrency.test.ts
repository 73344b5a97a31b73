import { describe, expect, it } from 'vitest';
import { logOf, releasesOf } from '../support/project.js';
import {
  currentOf,
  expectConsistent,
  faultProject,
  useFaultLab,
  withSharedAudit,
  type FaultLab,
  type FaultProject,
} from './support/fault-lab.js';
import { recordScenario } from './support/reliability.js';

let lab: FaultLab;
useFaultLab('race', (l) => (lab = l));

async function deployed(name: string, n: number): Promise<FaultProject> {
  const p = faultProject(lab, name, { direct: true });
  await p.deployed(n);
  return p;
}

const successes = (deployPath: string) => logOf(deployPath).filter((l) => l.status === 'success');

describe('concurrent runs against one host', () => {
  it('10 deploys at once: one succeeds, nine exit 3 naming the holder', async () => {
    const p = await deployed('ten', 1);
    const { audited } = await withSharedAudit(p.deployPath, async () => {
      // Whoever takes the lock is held inside its upload until the other nine have given up,
      // so the ten really overlap however slowly they start on two cores.
      lab.pauseAt({ command: 'tar', needle: '-x', when: 'before', seconds: 60 });
      const runs = Array.from({ length: 10 }, () => p.cli([]));
      const refused: Promise<unknown>[] = [];
      const settled = runs.map((r) => r.then((x) => (x.code === 3 ? refused.push(r) : undefined)));
      await lab.paused();
      while (
        refused.length < 9 &&
        (await Promise.race([Promise.all(settled).then(() => true), wait(100)])) !== true
      );
      lab.release();
      const results = await Promise.all(runs);
      const codes = results.map((r) => r.code).sort();
      expect(codes, results.map((r) => r.output).join('\n---\n')).toEqual([0, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
      for (const r of results.filter((x) => x.code === 3)) {
        expect(r.stderr).toMatch(/ELOCKED: web: deploy lock held by \S+@\S+ \(pid \d+, since .*`deploy web`/);
      }
    });
    expect(releasesOf(p.deployPath)).toHaveLength(2);
    expect(successes(p.deployPath)).toHaveLength(2);
    // Refused runs never got as far as naming a release: the log has no trace of them.
    const folded = new Map(logOf(p.deployPath).map((l) => [l.name, l.status]));
    expect([...folded.values()]).toEqual(['success', 'success']);
    expectConsistent(p.deployPath);
    recordScenario({
      group: 'concurrency',
      how: 'sshd',
      scenario: '10 deploys started at once',
      runs: 10,
      result: `exactly one exit 0, nine exit 3 naming the holder; one new release, log consistent, lock free; ${audited} shared files intact`,
      guarantee: 'The mkdir lock admits one deploy; the others change nothing',
    });
  });

  it('a rollback racing a deploy that holds the lock, and a deploy racing a rollback', async () => {
    const p = await deployed('rollback-race', 2);
    const [older, newer] = releasesOf(p.deployPath);
    const start = p.runs();
    const { audited } = await withSharedAudit(p.deployPath, async () => {
      lab.pauseAt({ command: 'tar', needle: '-x', when: 'before', seconds: 60 });
      const dep = p.cli([]);
      await lab.paused();
      const rb = await p.cli(['rollback', 'web']);
      expect(rb.code, rb.output).toBe(3);
      expect(rb.stderr).toContain('`deploy web`');
      lab.release();
      expect((await dep).code).toBe(0);
      const third = currentOf(p.deployPath)!;
      expect([older, newer]).not.toContain(third);
      expectConsistent(p.deployPath);

      lab.pauseAt({ command: 'mv', needle: '.current.', when: 'before', seconds: 60 });
      const rb2 = p.cli(['rollback', 'web']);
      await lab.paused();
      const dep2 = await p.cli([]);
      expect(dep2.code, dep2.output).toBe(3);
      expect(dep2.stderr).toContain('`deploy rollback web`');
      lab.release();
      const back = await rb2;
      expect(back.code, back.output).toBe(0);
      expect(currentOf(p.deployPath)).toBe(newer);
      expectConsistent(p.deployPath);
    });

    // Started together with no hold: whatever the order, a refused run names the other, never a torn state.
    for (let i = 0; i < 4; i++) {
      const [d, r] = await Promise.all([p.cli([]), p.cli(['rollback', 'web'])]);
      expect([0, 3], d.output).toContain(d.code);
      // 1: the rollback ran after a rollback and had nothing older to go to; it changed nothing.
      expect([0, 1, 3], r.output).toContain(r.code);
      if (d.code === 3) expect(d.stderr).toContain('`deploy rollback web`');
      if (r.code === 3) expect(r.stderr).toContain('`deploy web`');
      expectConsistent(p.deployPath);
    }
    recordScenario({
      group: 'concurrency',
      how: 'sshd',
      scenario: 'rollback racing a deploy (held each way, then 4 free races)',
      runs: p.runs() - start,
      result: `the run that comes second exits 3 naming the holder's command; free races end in a consistent state every time; ${audited} shared files intact`,
      guarantee: 'Rollback and deploy share one lock: `current` is never switched by two runs at once',
    });
  });
});

const wait = (ms: number) => new Promise<false>((resolve) => setTimeout(() => resolve(false), ms));
