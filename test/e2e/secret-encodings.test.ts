import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tmpDir, writeConfig, writeTree } from '../support/project.js';

/**
 * A secret with every character that JSON escaping, POSIX quoting or flattening to one line
 * rewrites: output must hide each form, not only the raw value.
 */
const SECRET = `pa"ss\\w'ord-12345\nsecond-line-67890`;
const FRAGMENTS = ['ord-12345', 'second-line-67890', 'pa"ss', 'pa\\"ss'];

const leaks = (text: string): string[] => FRAGMENTS.filter((f) => text.includes(f));

describe('secrets in serialized output', () => {
  const work = tmpDir('shipshape-secret-enc-');
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  writeTree(path.join(work, 'app'), { 'index.php': '<?php echo 1;\n' });
  // The hook prints the secret to stderr and fails before the switch: an ESTAGE error quoting
  // the command (shell-quoted, then flattened) and stderr (raw, line by line).
  const file = writeConfig(work, {
    application: 'enc',
    source: 'app',
    hosts: { web: { local: true, deploy_path: './target' } },
    hooks: { before: { symlink: ["cat >&2 <<'EOF'\n${{ env.TOKEN }}\nEOF\nexit 3"] } },
  });
  const env = { TOKEN: SECRET };

  it('deploy --json and its ESTAGE error hide it', async () => {
    const r = await runCli(['-c', file, '--json', 'web'], { env });
    expect(r.code, r.output).toBe(1);
    const result = JSON.parse(r.stdout) as { hosts: { error?: { code: string; message: string } }[] };
    expect(result.hosts[0]!.error!.code).toBe('ESTAGE');
    expect(result.hosts[0]!.error!.message).toContain('***');
    expect(leaks(r.output)).toEqual([]);
  });

  it('deploy --dry-run hides it in the scripts, as text and as JSON', async () => {
    const text = await runCli(['-c', file, '--dry-run', '-vv', 'web'], { env });
    expect(text.code, text.output).toBe(0);
    expect(text.stdout).toContain('eval ');
    expect(leaks(text.output)).toEqual([]);
    const json = await runCli(['-c', file, '--dry-run', '--json', 'web'], { env });
    expect(json.code, json.output).toBe(0);
    expect(JSON.parse(json.stdout).dryRun).toBe(true);
    expect(leaks(json.output)).toEqual([]);
  });

  it('hosts --json, config --json and config (YAML) hide it', async () => {
    const dir = path.join(work, 'labels');
    fs.mkdirSync(dir);
    const f = writeConfig(dir, {
      application: 'enc',
      source: '.',
      hosts: { web: { local: true, deploy_path: '../labels-target', labels: { token: '${TOKEN}' } } },
    });
    for (const args of [['--json', 'hosts'], ['--json', 'config'], ['config']]) {
      const r = await runCli(['-c', f, ...args, 'web'], { env });
      expect(r.code, r.output).toBe(0);
      expect(r.stdout).toContain('***');
      expect(leaks(r.output), args.join(' ')).toEqual([]);
    }
  });
});
