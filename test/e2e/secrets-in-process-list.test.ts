import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, sshProject } from '../support/project.js';
import { useSshd } from '../support/sshd-fixture.js';

const suite = useSshd('shipshape-proclist-');

const project = (name: string, config: Record<string, unknown>) =>
  sshProject(suite.server, suite.work, name, { 'index.html': 'hi\n' }, { config });

/** Every process's command line on this machine (suite.server and client alike), NULs as spaces. */
function commandLines(): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      out.push(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Samples the process list until `run` settles: what held `needle`, and which `proofs` were seen. */
async function sampleWhile<T>(run: Promise<T>, needle: string, proofs: RegExp[]) {
  const leaked = new Set<string>();
  const seen = new Set<RegExp>();
  let done = false;
  const settled = run.finally(() => (done = true));
  while (!done) {
    for (const line of commandLines()) {
      if (line.includes(needle)) leaked.add(line);
      for (const p of proofs) if (p.test(line)) seen.add(p);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { result: await settled, leaked: [...leaked], unseen: proofs.filter((p) => !seen.has(p)) };
}

describe('a secret in a hook', () => {
  it('is in no /proc/*/cmdline while the hook and the health check that hold it run', async () => {
    const secret = `pw-${randomBytes(12).toString('hex')}`;
    const { file } = project('proclist', {
      // The sleeps are what the sampler looks for: proof it looked while each one ran.
      hooks: { before: { symlink: ['sleep 1.7; test -n "${{ env.DB_PASSWORD }}"'] } },
      healthcheck: { command: 'sleep 1.3; test -n "${{ env.DB_PASSWORD }}"', timeout: 10, retries: 0 },
    });
    const { result, leaked, unseen } = await sampleWhile(
      runCli(['-c', file, 'web'], { env: { DB_PASSWORD: secret } }),
      secret,
      [/^sleep 1\.7 ?$/, /^sleep 1\.3 ?$/],
    );
    expect(result.code, result.output).toBe(0);
    expect(unseen, 'the sampler never saw these running').toEqual([]);
    expect(leaked).toEqual([]);
    expect(result.output).not.toContain(secret);
  });

  it('failing, longer than 400 characters and ending in the secret, shows no prefix of it', async () => {
    // Long, so that the old cut at 400 characters (before masking) landed inside it.
    const secret = `Zq7xK2pV${randomBytes(150).toString('hex')}`;
    const { file } = project('long-hook', {
      hooks: { before: { symlink: [`false ${'x'.repeat(150)} \${{ env.API_TOKEN }}`] } },
    });
    for (const args of [['web'], ['--json', 'web']]) {
      const r = await runCli(['-c', file, ...args], { env: { API_TOKEN: secret } });
      expect(r.code, r.output).toBe(1);
      expect(r.output).toContain('ESTAGE');
      expect(r.output).not.toContain(secret.slice(0, 6));
      // The command as the user wrote it, with the secret masked.
      expect(r.output).toMatch(/command: false x+ \*\*\*/);
    }
  });
});
