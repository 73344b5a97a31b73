import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inventoryShared, auditShared } from '../support/shared-audit.js';
import {
  currentOf,
  expectConsistent,
  faultProject,
  lockHeld,
  recover,
  useFaultLab,
  type FaultLab,
  type FaultProject,
} from './support/fault-lab.js';
import { recordScenario } from './support/reliability.js';

let lab: FaultLab;
useFaultLab('death', (l) => (lab = l));

/** Lines of plain output a signal can follow: the run start, then every stage marker. */
const MOMENTS = [
  'deploying to',
  '> setup:',
  '> lock:',
  '> probe:',
  '> release:',
  '> upload:',
  '> shared:',
  '> writable:',
  '> symlink:',
  '> cleanup:',
  '> unlock:',
];

interface Moment {
  after: string;
  delayMs: number;
}

/** The moments of every run, from a fixed seed: a failure names a run that can be replayed. */
const moments = (seed: number, n: number): Moment[] =>
  fc.sample(fc.record({ after: fc.constantFrom(...MOMENTS), delayMs: fc.integer({ min: 0, max: 40 }) }), {
    seed,
    numRuns: n,
  });

interface Tally {
  runs: number;
  /**
   * The signal ended a deploy in flight: it was sent before the CLI printed its last stage
   * (`ok unlock`), and the run ended by SIGKILL, or by itself with exit 130 after SIGINT.
   */
  interrupted: number;
  /** The deploy had finished when the signal was sent (or it exited before it landed). */
  finishedFirst: number;
  /** SIGINT ended the process by the signal instead of exit 130, on a complete and unlocked host. */
  endedBySignal: number;
  unlockNeeded: number;
  liveAfterSignal: number;
}

/** The plain output's line for the last stage of a deploy: after it the run only reports. */
const LAST_STAGE_DONE = /ok unlock/;

/** Sends `signal` at `moment`, then checks and repairs the host the way the README tells a user to. */
async function signalRun(p: FaultProject, signal: NodeJS.Signals, moment: Moment, tally: Tally) {
  const before = currentOf(p.deployPath);
  const shared = inventoryShared(p.deployPath);
  let pid = 0;
  let sent = false;
  let seen = '';
  /** What the CLI had printed when the signal was sent; undefined if it never was. */
  let atSignal: string | undefined;
  const r = await p.cli([], {
    onSpawn: (x) => (pid = x),
    onStdout: (out) => {
      seen = out;
      if (sent || !out.includes(moment.after)) return;
      sent = true;
      setTimeout(() => {
        try {
          process.kill(pid, signal);
          atSignal = seen;
        } catch {
          /* already exited */
        }
      }, moment.delayMs);
    },
  });
  const label = `${signal} ${moment.delayMs} ms after "${moment.after}"\n${r.output}`;
  tally.runs++;
  const inFlight = atSignal !== undefined && !LAST_STAGE_DONE.test(atSignal);
  if (r.code === 0) tally.finishedFirst++;
  else if (signal === 'SIGKILL') {
    expect(r.signal, label).toBe('SIGKILL');
    if (inFlight) tally.interrupted++;
    else tally.finishedFirst++;
  } else if (r.code === 130) {
    // Ctrl-C: the CLI stops the remote command, cleans up and exits by itself.
    expect(r.stderr, label).toContain('EINTERRUPTED');
    expect(lockHeld(p.deployPath), `lock left by ${label}`).toBe(false);
    if (inFlight) tally.interrupted++;
    else tally.finishedFirst++;
  } else {
    // KNOWN GAP: a SIGINT can end the process by the signal instead of exit 130. That is a
    // failure unless the deploy had done its work: its new release live and complete, the log
    // calling it a success, the lock free. Such runs are counted apart, never as interrupted.
    expect(r.signal, label).toBe('SIGINT');
    expect(lockHeld(p.deployPath), `lock left by ${label}`).toBe(false);
    expect(currentOf(p.deployPath), `${label}: ended by SIGINT with the old release live`).not.toBe(before);
    expectConsistent(p.deployPath);
    tally.endedBySignal++;
  }
  const now = currentOf(p.deployPath);
  if (now !== before) {
    tally.liveAfterSignal++;
    expect(fs.existsSync(path.join(p.deployPath, 'releases', now!, 'index.php')), label).toBe(true);
    if (signal === 'SIGINT' && r.code === 130) expect(r.output, label).toContain('stays live');
  }
  // A killed client's remote script ends at its next write to the dropped channel.
  if (signal === 'SIGKILL') await delay(300);
  const { unlocked } = await recover(p);
  if (unlocked) tally.unlockNeeded++;
  if (signal === 'SIGINT') expect(unlocked, `${label}: SIGINT left the lock`).toBe(false);
  expect(auditShared(shared, inventoryShared(p.deployPath)), label).toEqual([]);
  expectConsistent(p.deployPath);
}

/** Two hosts' worth of runs side by side: each lane has its own deploy path, so they never share a lock. */
async function lanes(signal: NodeJS.Signals, seed: number, total: number) {
  const tally: Tally = {
    runs: 0,
    interrupted: 0,
    finishedFirst: 0,
    endedBySignal: 0,
    unlockNeeded: 0,
    liveAfterSignal: 0,
  };
  const plan = moments(seed, total);
  const half = Math.ceil(total / 2);
  await Promise.all(
    [plan.slice(0, half), plan.slice(half)].map(async (list, lane) => {
      const p = faultProject(lab, `${signal.toLowerCase()}-${lane}`, { direct: true });
      await p.deployed(1);
      for (const m of list) await signalRun(p, signal, m, tally);
    }),
  );
  // The counts vary from run to run (the machine's speed decides where a moment lands); the
  // table states the floor, which every run must clear.
  console.log(`${signal}: ${JSON.stringify(tally)}`);
  return tally;
}

/**
 * At least this share of the runs must really be interrupted mid-flight: the moments are spread
 * over the whole deploy, and a lane where most runs finish first would prove little.
 */
const FLOOR = 0.8;
const floorOf = (runs: number) => Math.ceil(runs * FLOOR);

interface Lane {
  signal: NodeJS.Signals;
  seed: number;
  runs: number;
  scenario: string;
  /** The row's result, after the floor of interrupted runs. */
  result: string;
  guarantee: string;
}

const LANES: Lane[] = [
  {
    signal: 'SIGKILL',
    seed: 8,
    runs: 50,
    scenario: 'kill -9 of the CLI at a seeded random moment (seed 8)',
    result:
      'killed mid-flight (before the CLI printed its last stage); every run: `current` on a complete release, `deploy unlock` (when the lock was left) plus `deploy` succeed, host consistent, no shared file lost or changed',
    guarantee:
      'A deploy that dies at any moment leaves nothing half-live and nothing that one unlock cannot clear',
  },
  {
    // signalRun holds every SIGINT run to "no unlock needed".
    signal: 'SIGINT',
    seed: 9,
    runs: 30,
    scenario: 'SIGINT (Ctrl-C) at a seeded random moment (seed 9)',
    result:
      'interrupted mid-flight, each exiting 130 by itself with the lock released; `current` unchanged, or the new complete release with "stays live" said; a run ended by the signal itself passes only on a complete, unlocked host and is not counted as interrupted; the next deploy succeeds without unlock; no shared file lost or changed',
    guarantee: 'Ctrl-C is always safe: it cleans up after itself',
  },
];

describe('the CLI dies or is interrupted at random moments', () => {
  // A guard against a hang, not a speed limit: the 50 SIGKILL runs took 234 s in a full CI run here.
  it.each(LANES)('$signal, $runs runs', { timeout: 600_000 }, async (lane) => {
    const t = await lanes(lane.signal, lane.seed, lane.runs);
    expect(t.runs).toBe(lane.runs);
    expect(t.interrupted, JSON.stringify(t)).toBeGreaterThanOrEqual(floorOf(t.runs));
    recordScenario({
      group: 'process death',
      scenario: lane.scenario,
      how: 'sshd',
      runs: t.runs,
      result: `at least ${floorOf(t.runs)} of ${t.runs} runs ${lane.result}`,
      guarantee: lane.guarantee,
    });
  });
});
