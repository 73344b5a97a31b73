import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { setInvokedConfigFile } from '../../../src/definitions/invocation.js';
import { deployPaths } from '../../../src/layout/paths.js';
import { configOnlyPersistence } from '../../../src/persistence/app-persistence.js';
import { copyCommandFor, setupCommandFor } from '../../../src/stages/put-hint.js';
import type { HostContext } from '../../../src/stages/types.js';

function ctx(hostYaml: string, configFile = 'deploy.yml', top = ''): HostContext {
  const { config } = parseConfig(`application: a\n${top}hosts:\n  web1:\n${hostYaml}`, configFile, {});
  const host = config.hosts.web1!;
  return {
    alias: 'web1',
    host,
    config,
    paths: deployPaths(host.deploy_path),
    run: { user: 'u', machine: 'm', pid: 1, started_at: '', command: 'deploy' },
    lockToken: 't',
  };
}

describe('the commands a missing shared file’s hint prints', () => {
  it('scp names the user, the port, the key and known_hosts file from deploy.yml', () => {
    const c = ctx(
      '    hostname: web1.example.com\n    user: deploy\n    port: 2222\n    identity_file: /keys/id ed25519\n    stage: production\n    deploy_path: /var/www/shop\n',
      'deploy.yml',
      'known_hosts_file: /kh\n',
    );
    expect(copyCommandFor(c, '.env')).toBe(
      'chmod 600 .env.production && ' +
        "scp -P 2222 -o HostName=web1.example.com -i '/keys/id ed25519' -o UserKnownHostsFile=/kh .env.production deploy@web1:/var/www/shop/shared/.env" +
        " && ssh -p 2222 -o HostName=web1.example.com -i '/keys/id ed25519' -o UserKnownHostsFile=/kh deploy@web1 'chmod 600 /var/www/shop/shared/.env'",
    );
    expect(setupCommandFor(c, ['.env', 'config/master.key'])).toBe(
      'deploy setup web1 --put .env.production:.env --put config/master.key.production:config/master.key',
    );
  });

  it('a nested path gets its directory first, over ssh on the same port; deploy.yml by -c when not the default', () => {
    const c = ctx('    hostname: h\n    port: 2200\n    deploy_path: /srv/app\n', 'ops/deploy.yml');
    expect(copyCommandFor(c, 'config/master.key')).toBe(
      'chmod 600 config/master.key.web1 && ' +
        "ssh -p 2200 -o HostName=h web1 'mkdir -p /srv/app/shared/config' && scp -P 2200 -o HostName=h config/master.key.web1 web1:/srv/app/shared/config/master.key" +
        " && ssh -p 2200 -o HostName=h web1 'chmod 600 /srv/app/shared/config/master.key'",
    );
    setInvokedConfigFile('ops/deploy.yml');
    try {
      expect(setupCommandFor(c, ['.env'])).toBe('deploy -c ops/deploy.yml setup web1 --put .env.web1:.env');
    } finally {
      setInvokedConfigFile();
    }
    // Without a port in deploy.yml, ssh's own configuration decides, as it does for the deploy.
    expect(copyCommandFor(ctx('    deploy_path: /srv/app\n'), '.env')).toBe(
      "chmod 600 .env.web1 && scp .env.web1 web1:/srv/app/shared/.env && ssh web1 'chmod 600 /srv/app/shared/.env'",
    );
  });

  it('goes to the alias, so ~/.ssh/config’s Host block for it applies as it does to the deploy', () => {
    // deploy.yml names the address; the port, user and key are in ~/.ssh/config under the alias.
    const c = ctx('    hostname: 10.0.0.5\n    deploy_path: /srv/app\n');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-put-hint-'));
    try {
      const config = path.join(dir, 'config');
      fs.writeFileSync(config, 'Host web1\n  Port 2222\n  User deploy\n  IdentityFile /keys/web1\n');
      const [, ssh] = copyCommandFor(c, 'config/master.key').split(' && ');
      // What OpenSSH would do with the hint's own ssh command (-G: resolve, print, connect nowhere).
      const resolved = execFileSync('/bin/sh', ['-c', ssh!.replace(/^ssh /, `ssh -G -F ${config} `)], {
        encoding: 'utf8',
      });
      expect(resolved).toMatch(/^hostname 10\.0\.0\.5$/m);
      expect(resolved).toMatch(/^port 2222$/m);
      expect(resolved).toMatch(/^user deploy$/m);
      expect(resolved).toMatch(/^identityfile \/keys\/web1$/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a local host gets cp, and the file the mode deploy setup gives it, not the umask’s 0644', () => {
    const c = ctx('    local: true\n    deploy_path: /srv/app\n');
    expect(copyCommandFor(c, 'a/b c')).toBe(
      "chmod 600 'a/b c.web1' && mkdir -p /srv/app/shared/a && cp 'a/b c.web1' '/srv/app/shared/a/b c' && chmod 600 '/srv/app/shared/a/b c'",
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-put-hint-'));
    try {
      fs.writeFileSync(path.join(dir, '.env.web1'), 'SECRET=1\n', { mode: 0o644 });
      // The deploy that prints the hint has made shared/.
      fs.mkdirSync(path.join(dir, 'app/shared'), { recursive: true });
      const here = ctx(`    local: true\n    deploy_path: ${dir}/app\n`);
      execFileSync('/bin/sh', ['-c', `umask 022 && ${copyCommandFor(here, '.env')}`], { cwd: dir });
      const placed = path.join(dir, 'app/shared/.env');
      expect(fs.readFileSync(placed, 'utf8')).toBe('SECRET=1\n');
      expect((fs.statSync(placed).mode & 0o777).toString(8)).toBe('600');
      expect((fs.statSync(path.join(dir, '.env.web1')).mode & 0o777).toString(8)).toBe('600');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives the app user the read that writable_mode promises, as deploy setup --put does', () => {
    const c = ctx('    deploy_path: /srv/app\n');
    const writable = { mode: 'acl' as const, user: 'www-data', recursive: false };
    const acl = { ...c, persistence: { ...configOnlyPersistence(c.config), writable } };
    expect(copyCommandFor(acl, '.env')).toBe(
      "chmod 600 .env.web1 && scp .env.web1 web1:/srv/app/shared/.env && ssh web1 'chmod 640 /srv/app/shared/.env && setfacl -m u:www-data:r -- /srv/app/shared/.env'",
    );
  });
});
