import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tmpDir, writeConfig, writeTree } from '../support/project.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// The local transport is enough here: what is under test is the CLI's output on a CI runner.
describe('output on GitHub Actions', () => {
  const work = tmpDir('shipshape-ci-output-');
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  /** An app whose required shared file is missing, in a directory of its own. */
  const missingEnv = (name: string): { dir: string; file: string } => {
    const dir = path.join(work, name);
    writeTree(path.join(dir, 'app'), { 'index.php': '<?php echo 1;\n' });
    const file = writeConfig(dir, {
      application: 'ci',
      source: 'app',
      shared_files: ['.env'],
      hosts: { web: { local: true, deploy_path: './target' } },
    });
    return { dir, file };
  };

  it('folds stages with ::group:: and raises ::error:: when a required shared file is missing', async () => {
    const { dir, file } = missingEnv('folds');
    const r = await runCli(['-c', file, 'web'], { env: { GITHUB_ACTIONS: 'true', GITLAB_CI: '' } });
    expect(r.code, r.output).toBe(1);
    const lines = r.stdout.split('\n');
    const opened = lines.filter((l) => l.startsWith('::group::'));
    const closed = lines.filter((l) => l === '::endgroup::');
    expect(opened).toContain('::group::web: Link shared files and directories');
    expect(closed.length).toBe(opened.length);
    // Every fold is closed before the next opens.
    let depth = 0;
    for (const l of lines) {
      if (l.startsWith('::group::')) expect(++depth).toBe(1);
      if (l === '::endgroup::') expect(--depth).toBe(0);
    }
    const annotation = lines.find((l) => l.startsWith('::error '));
    expect(annotation).toMatch(
      /^::error title=ESHAREDMISSING on web::web: required shared files are missing: [^%]*\.env[^%]*%0APut them/,
    );
    expect(fs.existsSync(path.join(dir, 'target/current'))).toBe(false);
  });

  it('--json prints only the documented result object on stdout; the folds go to stderr', async () => {
    const docs = fs.readFileSync(path.join(ROOT, 'docs/ci.md'), 'utf8');
    const block = /<!-- json-output-schema -->\n```json\n([\s\S]*?)\n```/.exec(docs)?.[1];
    expect(block, 'docs/ci.md lost its json-output-schema block').toBeTruthy();
    const validate = new Ajv2020({ allErrors: true }).compile(JSON.parse(block!) as object);
    const { file } = missingEnv('json');
    const r = await runCli(['-c', file, '--json', 'web'], { env: { GITHUB_ACTIONS: 'true', GITLAB_CI: '' } });
    expect(r.code, r.output).toBe(1);
    const result = JSON.parse(r.stdout) as unknown;
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true);
    expect(result).toMatchObject({
      exitCode: 1,
      hosts: [{ host: 'web', status: 'failed', error: { code: 'ESHAREDMISSING' } }],
    });
    expect(r.stderr).toContain('::group::web: Link shared files and directories');
  });
});
