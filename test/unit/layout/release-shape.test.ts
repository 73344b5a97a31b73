import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { releaseShape } from '../../../src/layout/release-shape.js';

const shapeOf = (yaml: string): string => {
  const { config } = parseConfig(yaml, '/tmp/app/deploy.yml', {});
  return releaseShape(config, 'web', config.hosts.web!);
};
const base = (extra = '', host = '') => `application: app
shared_dirs: [storage]
${extra}
hosts:
  web:
    hostname: example.com
    deploy_path: /srv/app
${host}`;

describe('releaseShape', () => {
  it('changes with what makes a release: hooks, shared paths, the deploy path, the user, labels, stage', () => {
    const shape = shapeOf(base());
    expect(shapeOf(base())).toBe(shape);
    expect(shapeOf(base('hooks: { after: { symlink: ["php artisan migrate"] } }'))).not.toBe(shape);
    expect(shapeOf(base('shared_files: [.env]'))).not.toBe(shape);
    expect(shapeOf(base('', '    user: deployer\n'))).not.toBe(shape);
    // Labels pick hooks and stage is in their environment.
    expect(shapeOf(base('', '    labels: { role: web }\n'))).not.toBe(shape);
    expect(shapeOf(base('', '    stage: production\n'))).not.toBe(shape);
    expect(shapeOf(base().replace('/srv/app', '/srv/other'))).not.toBe(shape);
  });

  it('does not change with how the host is reached or which source is compared', () => {
    const shape = shapeOf(base());
    expect(shapeOf(base().replace('example.com', '10.0.0.5'))).toBe(shape);
    expect(shapeOf(base('skip_unchanged: true\nrequire_clean: true\nsource: build'))).toBe(shape);
    const reached = '    identity_file: /home/ci/.ssh/id_ed25519\n    port: 2222\n';
    expect(shapeOf(base('', reached))).toBe(shape);
  });
});
