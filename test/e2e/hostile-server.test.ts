import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  githubCommands,
  gitlabSections,
  HOSTILE,
  rawControls,
  withoutGitlabMarkers,
} from '../support/hostile.js';
import {
  logOf,
  releasesOf,
  runCli,
  runCliOnTerminal,
  sshHost,
  writeConfig,
  writeTree,
  type CliResult,
} from '../support/project.js';
import { useSshd } from '../support/sshd-fixture.js';

/**
 * A compromised or broken server: what it prints (hook output), what it stores (the release
 * log, the lock's owner record) and how its directories are named reach the person and the CI
 * log only as inert text, and never move `current` anywhere but to a real release.
 */
const suite = useSshd('shipshape-hostile-');

const NO_CI = { GITHUB_ACTIONS: '', GITLAB_CI: '' };

/** A project whose deploy succeeds, and the same with a hook that prints the corpus and fails. */
function project(name: string) {
  const dir = path.join(suite.work, name);
  writeTree(path.join(dir, 'app'), {
    'index.html': 'hi\n',
    'hostile.txt': `${HOSTILE.join('\n')}\n`,
  });
  const deployPath = path.join(dir, 'srv');
  const host = { web: sshHost(suite.server, deployPath) };
  const good = writeConfig(dir, { application: name, source: 'app', hosts: host });
  fs.renameSync(good, path.join(dir, 'good.yml'));
  const bad = writeConfig(dir, {
    application: name,
    source: 'app',
    hosts: host,
    hooks: { before: { symlink: ['cat hostile.txt >&2; exit 1'] } },
  });
  return { dir, deployPath, good: path.join(dir, 'good.yml'), bad };
}

/** What no output may hold: a raw control character; on GitHub, a workflow command at all. */
function expectInert(r: CliResult, what: string, github = false) {
  expect(rawControls(r.output), what).toEqual([]);
  if (github) expect(githubCommands(r.output), what).toEqual([]);
}

describe('the corpus of hostile lines, through every output path', () => {
  let p: ReturnType<typeof project>;
  beforeAll(() => {
    p = project('corpus');
  });

  it('a failing hook that prints it: plain lines, --json, GitHub and GitLab folding, listr on a terminal', async () => {
    expect((await runCli(['-c', p.good, 'web'], { env: NO_CI })).code).toBe(0);

    const logFile = path.join(p.dir, 'plain.log');
    const plain = await runCli(['-c', p.bad, '--log', logFile, 'web'], { env: NO_CI });
    expect(plain.code, plain.output).toBe(1);
    expect(plain.output).toContain('ESTAGE');
    // Shown, as text: the user still sees what the suite.server sent, line by line as it came.
    expect(plain.output).toContain('\\x1b[2J\\x1b[Hclear the screen');
    expect(plain.stdout).toMatch(/^\S+ \| \\x1b\[2J\\x1b\[Hclear the screen$/m);
    expectInert(plain, 'plain');
    // The log file: the same lines, streamed and in the error, inert too.
    const log = fs.readFileSync(logFile, 'utf8');
    expect(log).toMatch(/^\S+ \| \\x1b\[2J\\x1b\[Hclear the screen$/m);
    expect(log).toContain('error ESTAGE');
    expect(rawControls(log)).toEqual([]);
    // Outside GitHub the text stays as it was: only GitHub's runner reads `::`.
    expect(plain.output).toContain('  ::error title=pwned::leading spaces');

    const json = await runCli(['-c', p.bad, '--json', 'web'], { env: NO_CI });
    expect(json.code, json.output).toBe(1);
    const result = JSON.parse(json.stdout) as { hosts: { error: { message: string } }[] };
    expect(result.hosts[0]!.error.message).toContain('\\x1b]0;pwned window title');
    expectInert(json, '--json');

    const githubLog = path.join(p.dir, 'github.log');
    const github = await runCli(['-c', p.bad, '--log', githubLog, 'web'], {
      env: { ...NO_CI, GITHUB_ACTIONS: 'true' },
    });
    expect(github.code, github.output).toBe(1);
    expect(rawControls(github.output)).toEqual([]);
    // A file is read by no runner: its text is masked and shown, but not rewritten for GitHub.
    const fileText = fs.readFileSync(githubLog, 'utf8');
    expect(rawControls(fileText)).toEqual([]);
    expect(fileText).toMatch(/^\S+ \| ::stop-commands::pwnedtoken$/m);
    const commands = githubCommands(`${github.stdout}\n${github.stderr}`);
    // shipshape's own folds and its annotation still suite.work, and nothing else is a command.
    expect(commands.filter((c) => c.command === 'group').length).toBeGreaterThan(3);
    expect(commands.filter((c) => c.command === 'error').map((c) => c.properties)).toEqual([
      'title=ESTAGE on web',
    ]);
    expect(commands.every((c) => ['group', 'endgroup', 'error'].includes(c.command))).toBe(true);
    expect(github.output).toContain('\n\\::stop-commands::pwnedtoken\n');
    // Streamed inside the hook stage's fold, neutralised there too.
    expect(github.stdout).toMatch(/^\S+ \| \\::stop-commands::pwnedtoken$/m);
    expect(github.output).toContain('note ##\\[error]anywhere in a line');

    const gitlab = await runCli(['-c', p.bad, 'web'], { env: { ...NO_CI, GITLAB_CI: 'true' } });
    expect(gitlab.code, gitlab.output).toBe(1);
    const sections = gitlabSections(gitlab.output);
    expect(sections.length).toBeGreaterThan(3);
    expect(sections.filter((s) => !s.name.startsWith('web_'))).toEqual([]);
    expect(rawControls(withoutGitlabMarkers(gitlab.output))).toEqual([]);

    // listr2 draws with escape sequences of its own; the server's must not be among them.
    const tty = await runCliOnTerminal(['-c', p.bad, 'web']);
    expect(tty.code, tty.output).toBe(1);
    expect(tty.output).toContain('\\x1b[2J\\x1b[Hclear the screen');
    for (const raw of [
      '\u001b[2J',
      '\u001b]0;',
      '\u001b]8;;',
      '\u001b[8m',
      '\u009b',
      '\u009d',
      '\u202e',
      '\u0000',
    ])
      expect(tty.output, JSON.stringify(raw)).not.toContain(raw);

    expect(releasesOf(p.deployPath)).toHaveLength(1);
  });

  it('the releases table, whose every cell comes from the release log', async () => {
    const releases = path.join(p.deployPath, 'releases');
    const log = path.join(p.deployPath, '.deploy/releases.jsonl');
    HOSTILE.forEach((line, i) => {
      const name = `202001${String(i + 10).padStart(2, '0')}-000000`;
      fs.mkdirSync(path.join(releases, name));
      const entry = { name, status: 'success', started_at: line, user: line, machine: line, revision: line };
      fs.appendFileSync(log, `${JSON.stringify({ ...entry, ci: { url: line } })}\n`);
    });
    for (const github of [false, true]) {
      const env = { ...NO_CI, GITHUB_ACTIONS: String(github) };
      const r = await runCli(['-c', p.good, 'releases', 'web'], { env });
      expect(r.code, r.output).toBe(0);
      // One row per release: no cell broke its line.
      expect(r.stdout.split('\n').filter((l) => /^ {2}202001\d\d-000000 /.test(l))).toHaveLength(
        HOSTILE.length,
      );
      expectInert(r, `releases, GITHUB_ACTIONS=${github}`, github);
    }
  });

  it("lock status, the lock error and unlock, quoting the holder's record", async () => {
    const lock = path.join(p.deployPath, '.deploy/lock');
    fs.mkdirSync(lock);
    const record = {
      user: HOSTILE.join(' '),
      machine: HOSTILE[6],
      pid: 1,
      started_at: HOSTILE[7],
      command: HOSTILE[0],
    };
    fs.writeFileSync(path.join(lock, 'owner.json'), JSON.stringify(record));

    const status = await runCli(['-c', p.good, 'lock', 'status', 'web'], {
      env: { ...NO_CI, GITHUB_ACTIONS: 'true' },
    });
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toContain('locked by');
    expect(status.output).not.toContain('\u001b');
    expectInert(status, 'lock status', true);

    const locked = await runCli(['-c', p.good, 'web'], { env: { ...NO_CI, GITHUB_ACTIONS: 'true' } });
    expect(locked.code, locked.output).toBe(3);
    expect(locked.output).toContain('ELOCKED');
    expect(rawControls(locked.output)).toEqual([]);
    expect(
      githubCommands(locked.output).filter((c) => !['group', 'endgroup', 'error'].includes(c.command)),
    ).toEqual([]);

    const unlock = await runCli(['-c', p.good, 'unlock', 'web'], {
      env: { ...NO_CI, GITHUB_ACTIONS: 'true' },
    });
    expect(unlock.code, unlock.output).toBe(0);
    expect(unlock.stdout).toContain('removed the lock of');
    expectInert(unlock, 'unlock', true);
    expect(fs.existsSync(lock)).toBe(false);
  });
});

describe('release names read from the server', () => {
  it('a directory named with a trailing newline is no release: rollback --to refuses, current stays real', async () => {
    const p = project('newline');
    expect((await runCli(['-c', p.good, 'web'], { env: NO_CI })).code).toBe(0);
    const [live] = releasesOf(p.deployPath);
    const fake = '20200101-000000';
    fs.mkdirSync(path.join(p.deployPath, 'releases', `${fake}\n`));
    fs.appendFileSync(
      path.join(p.deployPath, '.deploy/releases.jsonl'),
      `${JSON.stringify({ name: fake, status: 'success', started_at: '2020-01-01T00:00:00Z', user: 'x', machine: 'y' })}\n`,
    );

    const r = await runCli(['-c', p.good, 'rollback', 'web', '--to', fake], { env: NO_CI });
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain(`release ${fake} does not exist`);
    expect(fs.readlinkSync(path.join(p.deployPath, 'current'))).toBe(`releases/${live}`);
    expect(fs.statSync(path.join(p.deployPath, 'current')).isDirectory()).toBe(true);

    const listed = await runCli(['-c', p.good, 'releases', 'web'], { env: NO_CI });
    expect(listed.stdout).not.toMatch(new RegExp(`^ {2}${fake} `, 'm'));
  });

  it('`current -> releases/..` is nothing live: rollback refuses, and a deploy puts a release back', async () => {
    const p = project('dotdot');
    expect((await runCli(['-c', p.good, 'web'], { env: NO_CI })).code).toBe(0);
    const current = path.join(p.deployPath, 'current');
    fs.rmSync(current);
    fs.symlinkSync('releases/..', current);

    const rb = await runCli(['-c', p.good, 'rollback', 'web'], { env: NO_CI });
    expect(rb.code, rb.output).toBe(1);
    expect(rb.output).toContain('nothing is live');
    expect(fs.readlinkSync(current)).toBe('releases/..');

    const d = await runCli(['-c', p.good, 'web'], { env: NO_CI });
    expect(d.code, d.output).toBe(0);
    expect(fs.readlinkSync(current)).toBe(`releases/${releasesOf(p.deployPath).at(-1)}`);
    expect(logOf(p.deployPath).some((l) => l.name === '..')).toBe(false);
  });
});
