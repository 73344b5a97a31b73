import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tmpDir, writeConfig } from '../support/project.js';

const LARAVEL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/apps/laravel');

describe('deploy config', () => {
  const work = tmpDir('shipshape-config-cmd-');
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  const SECRET = 'db-primary.internal.example';
  fs.writeFileSync(path.join(work, 'ssh_config'), 'Host web\n  Port 2222\n  User deployer\n');
  const file = writeConfig(work, {
    application: 'shop',
    source: LARAVEL,
    ssh_config_file: path.join(work, 'ssh_config'),
    hosts: {
      web: { hostname: '${WEB_HOST}', deploy_path: '/srv/shop', stage: 'production' },
      other: { hostname: 'other.example.com', deploy_path: '/srv/shop' },
    },
  });

  it('prints the resolved settings per host: ssh config applied, recipe merged, env secret masked', async () => {
    const r = await runCli(['-c', file, 'config', 'production'], { env: { WEB_HOST: SECRET } });
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain(SECRET);
    expect(r.stdout).toMatch(/^web:\n {2}host:\n {4}hostname: "?\*\*\*"?\n/);
    expect(r.stdout).toContain('    port: 2222\n');
    expect(r.stdout).toContain('    user: deployer\n');
    expect(r.stdout).toContain('    recipe: laravel\n');
    expect(r.stdout).not.toContain('other:');
  });

  it('prints JSON with --json, masked the same way', async () => {
    const r = await runCli(['-c', file, '--json', 'config', 'web'], { env: { WEB_HOST: SECRET } });
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain(SECRET);
    const out = JSON.parse(r.stdout) as Record<string, any>;
    expect(out.web.connection.hostname).toBe('***');
    expect(out.web.connection.port).toBe(2222);
    expect(out.web.persistence.shared_dirs).toContain('storage');
  });
});
