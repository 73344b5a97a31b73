import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliOnTerminal, tmpDir, writeConfig, writeTree } from '../support/project.js';

/**
 * The `confirm: true` question quotes deploy.yml and the command line: each command hands it the
 * same sanitiser as the rest of its output. A local host: no server is contacted before the answer.
 */
const SECRET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

describe('the confirmation question on a terminal', () => {
  const work = tmpDir('shipshape-confirm-prompt-');
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  // Literal in deploy.yml: a value from the environment would be masked whole.
  const project = (name: string, application: string, extra: Record<string, unknown> = {}) => {
    const dir = path.join(work, name);
    writeTree(path.join(dir, 'app'), { 'index.html': 'hi\n' });
    return writeConfig(dir, {
      application,
      source: 'app',
      confirm: true,
      hosts: { web: { local: true, deploy_path: './target' } },
      ...extra,
    });
  };

  it('shows an application name’s escape sequences as text', async () => {
    const file = project('escapes', 'demo\u001b]0;PWNED\u0007');
    const r = await runCliOnTerminal(['-c', file, 'web'], {}, { input: 'n\n', prompt: '[y/N]' });
    expect(r.output).toContain('Deploy demo\\x1b]0;PWNED\\x07 to web? [y/N]');
    expect(r.output).not.toContain('\u001b]0;PWNED');
    expect(r.code).toBe(2);
  });

  it('of `deploy run` masks a secret in the command', async () => {
    // TOKEN is a secret because a hook uses it.
    const file = project('secret', 'demo', {
      hooks: { before: { upload: [{ run: 'echo "${{ env.TOKEN }}"' }] } },
    });
    const r = await runCliOnTerminal(
      ['-c', file, 'run', 'web', `echo ${SECRET}`],
      { TOKEN: SECRET },
      {
        input: 'n\n',
        prompt: '[y/N]',
      },
    );
    expect(r.output).toContain('Run `echo ***` (demo) on web? [y/N]');
    expect(r.output).not.toContain(SECRET);
    expect(r.code).toBe(2);
  });
});
