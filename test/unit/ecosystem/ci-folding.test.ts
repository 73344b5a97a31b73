import { describe, expect, it } from 'vitest';
import type { Reporter } from '../../../src/engine/reporter.js';
import { AZURE, FoldingReporter, GITHUB, GITLAB } from '../../../src/ui/ci-folding.js';
import { createSanitiser } from '../../../src/ui/sanitise.js';
import { sanitisedReporter } from '../../../src/ui/sanitised-reporter.js';
import { githubCommands } from '../../support/hostile.js';

const stages = [
  { id: 'lock', title: 'Take the deploy lock' },
  { id: 'upload', title: 'Upload the code' },
];

function reporter(dialect = GITHUB) {
  const lines: string[] = [];
  return { lines, r: new FoldingReporter(dialect, (l) => lines.push(...l.split('\n'))) };
}

/** The upload of host `web` fails, its stage printing `output`; the run ends with that error. */
async function failUpload(r: Reporter, output: string): Promise<void> {
  r.stage('web', 'upload', 'start');
  r.stage('web', 'upload', 'failed', output);
  await r.end([
    {
      host: 'web',
      status: 'failed',
      durationMs: 1,
      error: { code: 'ESTAGE', message: 'web: stage `upload` failed\n100%', hint: 'Fix it, then deploy.' },
    },
  ]);
}

describe('FoldingReporter on GitHub Actions', () => {
  it('folds each stage of one host as it runs', async () => {
    const { lines, r } = reporter();
    r.begin(['web'], stages);
    r.stage('web', 'lock', 'start');
    expect(lines.at(-2)).toBe('::group::web: Take the deploy lock');
    r.stage('web', 'lock', 'done');
    expect(lines.at(-1)).toBe('::endgroup::');
    await r.end([{ host: 'web', status: 'success', durationMs: 5 }]);
    expect(lines.filter((l) => l.startsWith('::group::'))).toHaveLength(1);
  });

  it('never interleaves the folds of hosts that run at once', async () => {
    const { lines, r } = reporter();
    r.begin(['a', 'b'], stages);
    r.stage('a', 'upload', 'start');
    r.stage('b', 'upload', 'start');
    r.log('info', 'sent 3 files', 'a');
    r.stage('b', 'upload', 'done');
    r.stage('a', 'upload', 'done');
    await r.end([]);
    const folds = lines.filter((l) => l.startsWith('::')).join(' ');
    expect(folds).toBe('::group::b: Upload the code ::endgroup:: ::group::a: Upload the code ::endgroup::');
    const aBlock = lines.slice(lines.indexOf('::group::a: Upload the code'));
    expect(aBlock.slice(0, 4).some((l) => l.includes('sent 3 files'))).toBe(true);
  });

  it('raises an escaped ::error:: annotation per failed host, and remote text cannot issue commands', async () => {
    const { lines, r: folding } = reporter();
    // As Output.reporter() builds it: the sanitiser in front of the renderer.
    const r = sanitisedReporter(folding, createSanitiser({ ci: 'github' }));
    r.begin(['web'], stages);
    // Indented, as the runner still reads it (it trims leading whitespace), and `##[` mid-line.
    await failUpload(r, 'tar failed\n  ::set-env name=X::1\nnote ##[error]y\n100% bad');
    // The runner reads the fold and the annotation, nothing from the stage's output.
    expect(githubCommands(lines.join('\n')).map((c) => c.command)).toEqual(['group', 'endgroup', 'error']);
    expect(lines).toContain('  \\::set-env name=X::1');
    expect(lines.at(-1)).toBe(
      '::error title=ESTAGE on web::web: stage `upload` failed%0A100%25%0AFix it, then deploy.',
    );
  });
});

describe('FoldingReporter on GitLab CI', () => {
  it('writes collapsed sections with matching names', async () => {
    const { lines, r } = reporter(GITLAB);
    r.begin(['web 1'], stages);
    r.stage('web 1', 'lock', 'start');
    r.stage('web 1', 'lock', 'done');
    await r.end([]);
    const start = lines.find((l) => l.includes('section_start:'));
    const end = lines.find((l) => l.includes('section_end:'));
    expect(start).toMatch(
      /^\u001b\[0Ksection_start:\d+:web_1_lock\[collapsed=true\]\r\u001b\[0Kweb 1: Take the deploy lock$/,
    );
    expect(end).toMatch(/^\u001b\[0Ksection_end:\d+:web_1_lock\r\u001b\[0K$/);
  });
});

describe('FoldingReporter on Azure Pipelines', () => {
  it('folds with ##[group], raises ##vso[task.logissue] per failed host, and remote text issues nothing', async () => {
    const { lines, r: folding } = reporter(AZURE);
    const r = sanitisedReporter(folding, createSanitiser({ ci: 'azure' }));
    r.begin(['web'], stages);
    r.stage('web', 'lock', 'start');
    r.stage('web', 'lock', 'done');
    await failUpload(r, 'tar failed ##vso[task.setvariable variable=X]1\n##[error]y');
    // The agent acts on ##vso[ and formats ##[ anywhere in a line: only ours are left whole.
    const commands = lines.flatMap((l) => [...l.matchAll(/##(vso)?\[([a-z.]+)/g)].map((m) => m[2]));
    expect(commands).toEqual(['group', 'endgroup', 'group', 'endgroup', 'task.logissue']);
    expect(lines).toContain('##[group]web: Take the deploy lock');
    expect(lines.at(-1)).toBe(
      '##vso[task.logissue type=error]ESTAGE on web: web: stage `upload` failed%0A100%AZP25%0AFix it, then deploy.',
    );
  });
});
