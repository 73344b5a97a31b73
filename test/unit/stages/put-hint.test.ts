import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { deployPaths } from '../../../src/layout/paths.js';
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
    configFile,
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
      "scp -P 2222 -i '/keys/id ed25519' -o UserKnownHostsFile=/kh .env.production deploy@web1.example.com:/var/www/shop/shared/.env",
    );
    expect(setupCommandFor(c, ['.env', 'config/master.key'])).toBe(
      'deploy setup web1 --put .env.production:.env --put config/master.key.production:config/master.key',
    );
  });

  it('a nested path gets its directory first, over ssh on the same port; deploy.yml by -c when not the default', () => {
    const c = ctx('    hostname: h\n    port: 2200\n    deploy_path: /srv/app\n', 'ops/deploy.yml');
    expect(copyCommandFor(c, 'config/master.key')).toBe(
      "ssh -p 2200 h 'mkdir -p /srv/app/shared/config' && scp -P 2200 config/master.key.web1 h:/srv/app/shared/config/master.key",
    );
    expect(setupCommandFor(c, ['.env'])).toBe('deploy -c ops/deploy.yml setup web1 --put .env.web1:.env');
    // Without a port in deploy.yml, ssh's own configuration decides, as it does for the deploy.
    expect(copyCommandFor(ctx('    deploy_path: /srv/app\n'), '.env')).toBe(
      'scp .env.web1 web1:/srv/app/shared/.env',
    );
  });

  it('a local host gets cp', () => {
    const c = ctx('    local: true\n    deploy_path: /srv/app\n');
    expect(copyCommandFor(c, 'a/b c')).toBe(
      "mkdir -p /srv/app/shared/a && cp 'a/b c.web1' '/srv/app/shared/a/b c'",
    );
  });
});
