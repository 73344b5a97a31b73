import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main, separateRunCommand } from '../../src/cli.js';
import { reportUncaught } from '../../src/commands/uncaught-error.js';
import { interruption } from '../../src/engine/exit-status.js';
import { DeployError } from '../../src/definitions/errors.js';

const stderr = () => {
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return () => spy.mock.calls.map((c) => String(c[0])).join('');
};

afterEach(() => vi.restoreAllMocks());

describe('command line', () => {
  it.each([
    ['--parallel', 'many'],
    ['--parallel', '0'],
    ['--parallel', '2x'],
    ['--limit', '0'],
    ['--limit', 'NaN'],
    ['--limit', '-1'],
  ])('%s %s is a usage error (exit 2) naming the option', async (option, value) => {
    const err = stderr();
    const code = await main(['node', 'deploy', '-c', '/nonexistent/deploy.yml', option, value, 'hosts']);
    expect(code).toBe(2);
    expect(err()).toContain(`option '${option} <n>' argument '${value}' is invalid`);
    expect(err()).toContain('a whole number of 1 or more');
  });

  it('an unknown option is quoted with its control characters shown as text', async () => {
    const err = stderr();
    const code = await main(['node', 'deploy', '--bogus\u001b]0;PWNED\u0007\u001b[2J', 'hosts']);
    expect(code).toBe(2);
    expect(err()).toContain("unknown option '--bogus\\x1b]0;PWNED\\x07\\x1b[2J'");
    expect(err()).not.toMatch(/[\u0007\u001b]/);
  });

  it('an interrupt by SIGTERM exits 143, by SIGINT 130, wherever it is raised', () => {
    stderr();
    const term = new DeployError('EINTERRUPTED', { signal: 'SIGTERM' });
    expect(term.exitCode).toBe(143);
    expect(reportUncaught(term, undefined, {})).toBe(143);
    expect(reportUncaught(new DeployError('EINTERRUPTED', { signal: 'SIGINT' }), undefined, {})).toBe(130);
  });

  it('an interrupted rollback speaks of its target, never of a new release', () => {
    const web = { selector: ['web 1'] };
    const stopped = (switched: boolean, rollback?: typeof web) =>
      interruption({ aborted: true, reason: 'SIGINT' } as AbortSignal, switched, rollback)!.error.hint;
    expect(stopped(true)).toContain('new release');
    for (const switched of [true, false]) expect(stopped(switched, web)).not.toContain('release was');
    // The command names the hosts the rollback was asked for, as the user typed them.
    expect(stopped(true, web)).toContain(
      "rollback's target on some hosts and stays there: check with `deploy releases 'web 1'`",
    );
    expect(stopped(false, web)).toContain('nothing was rolled back');
  });

  it('an error that escaped a command is printed with the configuration’s secrets masked', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-cli-'));
    try {
      const file = path.join(dir, 'deploy.yml');
      fs.writeFileSync(
        file,
        'application: a\nhosts:\n  web:\n    hostname: ${HOST_TOKEN}\n    deploy_path: /srv/a\n',
      );
      const env = { HOST_TOKEN: 'tok-0123456789', SSH_KEY_PASSPHRASE: 'open sesame 42' };
      const err = stderr();
      const code = reportUncaught(
        new Error('build failed: curl https://tok-0123456789@example.com (key open sesame 42)'),
        file,
        env,
      );
      expect(code).toBe(1);
      expect(err()).toContain('build failed: curl https://***@example.com (key ***)');
      // A configuration that does not load still hides the environment's own secrets.
      expect(reportUncaught(new Error('open sesame 42'), path.join(dir, 'missing.yml'), env)).toBe(1);
      expect(err()).not.toContain('open sesame 42');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`deploy run <selector> <command…>`: everything after the selector is the command, our options before it stay ours', () => {
    const takes = new Set(['-c', '--config', '-o', '--parallel']);
    const argv = (...a: string[]) => ['node', 'deploy', ...a];
    expect(separateRunCommand(argv('run', 'web1', 'uname', '-a'), takes)).toEqual(
      argv('run', 'web1', '--', 'uname', '-a'),
    );
    expect(
      separateRunCommand(argv('-c', 'x.yml', 'run', '--parallel', '2', 'web1', 'ls', '-c'), takes),
    ).toEqual(argv('-c', 'x.yml', 'run', '--parallel', '2', 'web1', '--', 'ls', '-c'));
    // Already separated, another command, or no command at all: left as it is.
    for (const a of [
      argv('run', 'web1', '--', 'ls'),
      argv('releases', 'web1', '--json'),
      argv('-c', 'run', 'web1', 'ls'),
      argv('run', 'web1'),
    ])
      expect(separateRunCommand(a, takes)).toEqual(a);
  });
});
