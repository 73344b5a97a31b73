import { describe, expect, it } from 'vitest';
import { createMask } from '../../../src/config/secrets.js';
import { DeployError } from '../../../src/definitions/errors.js';
import type { Reporter } from '../../../src/engine/reporter.js';
import { FoldingReporter, GITHUB, GITLAB } from '../../../src/ui/ci-folding.js';
import { createOutput } from '../../../src/ui/output.js';
import { PlainReporter } from '../../../src/ui/plain.js';
import { formatError } from '../../../src/ui/print-error.js';
import { formatLocks, formatReleases } from '../../../src/ui/releases-table.js';
import { ciProviderOf, createSanitiser, type CiProvider } from '../../../src/ui/sanitise.js';
import { sanitisedReporter } from '../../../src/ui/sanitised-reporter.js';
import {
  githubCommands,
  gitlabSections,
  HOSTILE,
  rawControls,
  withoutGitlabMarkers,
} from '../../support/hostile.js';

const SECRET = 'hunter2-secret-value';
const mask = createMask([SECRET], {});
const ALL = HOSTILE.join('\n');

/** Only shipshape's own commands: its folds and its annotations, whose titles it writes. */
const ours = (c: { command: string; properties: string }) =>
  ['group', 'endgroup'].includes(c.command) ||
  (['error', 'warning'].includes(c.command) && /^title=(shipshape|[A-Z]+ on )/.test(c.properties));

describe('the sanitiser', () => {
  it('shows every control character of the corpus as text, on every provider', () => {
    for (const ci of [undefined, 'github', 'gitlab', 'azure'] as const) {
      const s = createSanitiser({ mask, ci });
      expect(rawControls(s.text(ALL)), `ci=${ci}`).toEqual([]);
      expect(rawControls(s.field(ALL)), `ci=${ci}`).toEqual([]);
      expect(s.field(ALL)).not.toContain('\n');
    }
    const s = createSanitiser();
    expect(s.text('\u001b[2J')).toBe('\\x1b[2J');
    expect(s.text('a\r\nb\rc')).toBe('a\nb\\x0dc');
    expect(s.text('\u009b \u202e \u2028')).toBe('\\x9b \\u202e \\u2028');
    expect(s.text('tab\tkept')).toBe('tab\tkept');
  });

  it('leaves no line GitHub would read as a command, and GitHub only', () => {
    const gh = createSanitiser({ ci: 'github' }).text(ALL);
    // Raw, the corpus issues commands, and its third line stops the runner reading any more.
    expect(githubCommands(ALL).map((c) => c.command)).toEqual(['error', 'error', 'stop-commands']);
    expect(githubCommands(gh)).toEqual([]);
    expect(gh).toContain('  \\::error title=pwned::leading spaces');
    expect(gh).toContain('note ##\\[error]anywhere in a line');
    // A terminal gets the text as it was, only with its control characters shown.
    expect(createSanitiser().text('  ::error x::y ##[error]z')).toBe('  ::error x::y ##[error]z');
  });

  it('leaves no GitLab section marker, even one already complete in the input', () => {
    expect(gitlabSections(ALL).length).toBe(2);
    const gl = createSanitiser({ ci: 'gitlab' }).text(ALL);
    expect(gitlabSections(gl)).toEqual([]);
    expect(gl).not.toContain('section_start:');
  });

  it('leaves no line Azure Pipelines would read as a command, wherever in the line it starts', () => {
    const lines = [
      '##vso[task.setvariable variable=x]y',
      `  note ##vso[task.setsecret]${SECRET} and ##vso[build.addbuildtag]z`,
      'x ##[group]fold; ##[error]fake',
      '##VSO[task.complete result=Failed]',
    ];
    // The agent's test (Command.TryParse) is `##vso[` anywhere; the viewer's is `##[`.
    const commands = (text: string) => text.split('\n').filter((l) => /##(vso)?\[/i.test(l));
    expect(commands(lines.join('\n'))).toHaveLength(4);
    const az = createSanitiser({ mask, ci: 'azure' }).text(lines.join('\n'));
    expect(commands(az)).toEqual([]);
    expect(az.split('\n')).toEqual([
      '##vso\\[task.setvariable variable=x]y',
      '  note ##vso\\[task.setsecret]*** and ##vso\\[build.addbuildtag]z',
      'x ##\\[group]fold; ##\\[error]fake',
      '##VSO\\[task.complete result=Failed]',
    ]);
    expect(commands(createSanitiser({ ci: 'azure' }).text(ALL))).toEqual([]);
    // GitLab and a terminal read no such syntax: their text keeps it.
    expect(createSanitiser({ ci: 'gitlab' }).text(lines[0]!)).toBe(lines[0]);
    expect(createSanitiser().text(lines[2]!)).toBe(lines[2]);
  });

  it('knows Azure Pipelines by TF_BUILD, and GitHub and GitLab as before', () => {
    expect(ciProviderOf({ TF_BUILD: 'True' })).toBe('azure');
    expect(ciProviderOf({ TF_BUILD: 'False' })).toBeUndefined();
    expect(ciProviderOf({ GITHUB_ACTIONS: 'true' })).toBe('github');
    expect(ciProviderOf({ GITLAB_CI: 'true' })).toBe('gitlab');
    expect(ciProviderOf({})).toBeUndefined();
    // A hook's line on an Azure agent, as a command prints it.
    let shown = '';
    createOutput({
      env: { TF_BUILD: 'True' },
      write: { stdout: (t) => (shown += t), stderr: () => undefined },
    }).stdout('##vso[task.setvariable variable=x]y\n');
    expect(shown).toBe('##vso\\[task.setvariable variable=x]y\n');
  });

  it('masks before anything rewrites the text, so an escaped or split secret is still hidden', () => {
    const s = createSanitiser({ mask: createMask(['ab\u001b[2Jcd-secret', SECRET], {}), ci: 'github' });
    expect(s.text('x ab\u001b[2Jcd-secret y')).toBe('x *** y');
    expect(s.value({ [SECRET]: [`  ::error::${SECRET}`] })).toEqual({ '***': ['  \\::error::***'] });
  });

  it('is idempotent, so text that passes twice is shown once', () => {
    for (const ci of [undefined, 'github', 'gitlab', 'azure'] as const) {
      const s = createSanitiser({ mask, ci });
      expect(s.text(s.text(ALL))).toBe(s.text(ALL));
    }
  });
});

/** A renderer of each kind behind the sanitiser, fed the corpus as stage detail, log and error. */
async function throughReporter(make: (write: (l: string) => void) => Reporter, ci?: CiProvider) {
  const lines: string[] = [];
  const r = sanitisedReporter(
    make((l) => lines.push(l)),
    createSanitiser({ mask, ci }),
  );
  r.begin(['web', 'db'], [{ id: 'upload', title: 'Upload the code' }]);
  r.stage('web', 'upload', 'start');
  r.stage('db', 'upload', 'start');
  for (const l of HOSTILE) r.log('warn', `${l} ${SECRET}`, 'web');
  r.stage('web', 'upload', 'failed', `tar failed:\n${ALL}`);
  r.stage('db', 'upload', 'failed', ALL);
  await r.end([
    { host: 'web', status: 'failed', durationMs: 1, error: { code: 'ESTAGE', message: ALL, hint: SECRET } },
    {
      host: 'db',
      status: 'failed',
      durationMs: 1,
      error: { code: 'ESTAGE', message: `db\n${ALL}`, hint: 'x' },
    },
  ]);
  return lines.join('\n');
}

describe('every renderer, fed the corpus', () => {
  it('plain lines: no control character, no secret', async () => {
    const text = await throughReporter((w) => new PlainReporter(w));
    expect(rawControls(text)).toEqual([]);
    expect(text).not.toContain(SECRET);
    expect(text).toContain('\\x1b[2J');
  });

  it("GitHub folding: the runner sees shipshape's folds and annotations only, and every ::error", async () => {
    const text = await throughReporter((w) => new FoldingReporter(GITHUB, w), 'github');
    expect(rawControls(text)).toEqual([]);
    expect(text).not.toContain(SECRET);
    const commands = githubCommands(text);
    expect(commands.filter((c) => !ours(c))).toEqual([]);
    expect(commands.filter((c) => c.command === 'group')).toHaveLength(2);
    // The per-host annotations at the end are read: no stop-commands came before them.
    expect(commands.filter((c) => c.properties.startsWith('title=ESTAGE on '))).toHaveLength(2);
    expect(commands.filter((c) => c.command === 'warning')).toHaveLength(HOSTILE.length);
  });

  it('GitLab folding: the only sections are the stages, and nothing else is raw', async () => {
    const text = await throughReporter((w) => new FoldingReporter(GITLAB, w), 'gitlab');
    expect(text).not.toContain(SECRET);
    const sections = gitlabSections(text);
    expect(sections.map((s) => `${s.kind} ${s.name}`)).toEqual([
      'start web_upload',
      'end web_upload',
      'start db_upload',
      'end db_upload',
    ]);
    expect(rawControls(withoutGitlabMarkers(text))).toEqual([]);
  });

  it('errors, the releases table, lock status and JSON', () => {
    const s = createSanitiser({ mask, ci: 'github' });
    const error = new DeployError('ESTAGE', {
      host: 'web',
      stage: 'upload',
      exitCode: 2,
      command: HOSTILE[0] ?? '',
      stderr: `${ALL}\n${SECRET}`,
    });
    const row = { status: 'success' as const, started_at: HOSTILE[6] };
    const texts = {
      error: formatError(error, s),
      releases: formatReleases(
        [
          {
            host: 'web',
            releases: HOSTILE.map((l, i) => ({
              ...row,
              name: `2020010${i % 10}-000000`,
              user: l,
              machine: SECRET,
              revision: l,
              ci: { url: l },
            })),
          },
        ],
        s,
      ),
      locks: formatLocks(
        HOSTILE.map((l) => ({ host: 'web', locked: true, description: `${l} ${SECRET}`, stale: false })),
        'held',
        s,
      ),
    };
    for (const [name, text] of Object.entries(texts)) {
      expect(rawControls(text), name).toEqual([]);
      expect(githubCommands(text), name).toEqual([]);
      expect(text, name).not.toContain(SECRET);
    }
    // One row per release, whatever its cells held.
    expect(texts.releases.split('\n').filter((l) => /^ {2}2020010/.test(l))).toHaveLength(HOSTILE.length);

    let json = '';
    createOutput({
      mask,
      env: { GITHUB_ACTIONS: 'true' },
      write: { stdout: (t) => (json += t), stderr: () => undefined },
    }).json({ hosts: HOSTILE.map((l) => ({ error: { message: `${l}\n${SECRET}` } })) });
    expect(rawControls(json)).toEqual([]);
    expect(githubCommands(json)).toEqual([]);
    expect(json).not.toContain(SECRET);
    expect(JSON.parse(json).hosts).toHaveLength(HOSTILE.length);
  });
});
