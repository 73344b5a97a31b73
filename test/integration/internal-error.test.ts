import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.js';
import { logOf, releasesOf, tmpDir, writeConfig, writeTree } from '../support/project.js';

/*
 * A bug, forced: the symlink stage's planner throws a TypeError, as a planner with a bug would.
 * Nothing else is replaced; the CLI runs in this process (a child could not be given the bug)
 * against a local host, through the executor, the fleet, the command and the output.
 */
vi.mock('../../src/stages/symlink.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/stages/symlink.js')>();
  const broken = (): never => {
    const ctx: { paths?: { current: string } } = {};
    return ctx.paths!.current as never;
  };
  return { ...real, symlink: { ...real.symlink, plan: broken } };
});

let root: string;
let file: string;
let stderr: () => string;

beforeEach(() => {
  root = tmpDir('shipshape-internal-');
  writeTree(path.join(root, 'app'), { 'index.html': 'v1\n' });
  file = writeConfig(root, {
    application: 'a',
    source: 'app',
    hosts: { web: { local: true, deploy_path: path.join(root, 'server') } },
  });
  // The progress display goes to stdout; what a person reads of the error, to stderr.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  stderr = () => spy.mock.calls.map((c) => String(c[0])).join('');
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(root, { recursive: true, force: true });
});

const deploy = (...flags: string[]) => main(['node', 'deploy', '-c', file, ...flags, 'web']);

it('a bug is an internal error (EINTERNAL, exit 1), not a stage failure; its stack only with -v', async () => {
  expect(await deploy()).toBe(1);
  const quiet = stderr();
  expect(quiet).toContain(
    "error EINTERNAL: web: internal error in stage `symlink`: TypeError: Cannot read properties of undefined (reading 'current')",
  );
  expect(quiet).toContain('hint: This is a bug in shipshape: please report it');
  expect(quiet).not.toContain('ESTAGE');
  expect(quiet).not.toMatch(/^\s+at /m);
  // Like any failure before the switch: nothing went live, the release is gone, the lock released.
  const deployPath = path.join(root, 'server');
  expect(fs.existsSync(path.join(deployPath, 'current'))).toBe(false);
  expect(releasesOf(deployPath)).toEqual([]);
  expect(fs.existsSync(path.join(deployPath, '.deploy', 'lock'))).toBe(false);
  expect(logOf(deployPath).at(-1)?.status).toBe('failed');

  vi.mocked(process.stderr.write).mockClear();
  expect(await deploy('-v')).toBe(1);
  const verbose = stderr();
  expect(verbose).toContain('error EINTERNAL: web: internal error in stage `symlink`: TypeError');
  // The stack of what was thrown, down to the planner that threw it.
  expect(verbose).toMatch(
    /TypeError: Cannot read properties of undefined[^\n]*\n\s+at .*broken .*internal-error\.test\.ts.*\n.*src\/engine\/executor\.ts/,
  );
});
