import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { selectHosts } from '../../src/engine/selector.js';

const { config } = parseConfig(
  `application: x
default_selector: staging
hosts:
  web1: {hostname: a, deploy_path: /srv/a, stage: production, labels: {role: web}}
  web2: {hostname: b, deploy_path: /srv/a, stage: production, labels: {role: web}}
  worker1: {hostname: c, deploy_path: /srv/a, stage: production, labels: {role: worker}}
  stg: {hostname: d, deploy_path: /srv/a, stage: staging, labels: {role: web}}
`,
  'deploy.yml',
  {},
);
const pick = (sel: string | string[] | undefined, limit?: number) =>
  selectHosts(config, sel, limit).map((h) => h.alias);

describe('selectHosts', () => {
  it('by alias, stage, label and all', () => {
    expect(pick('web2')).toEqual(['web2']);
    expect(pick('production')).toEqual(['web1', 'web2', 'worker1']);
    expect(pick('role=worker')).toEqual(['worker1']);
    expect(pick('all')).toEqual(['web1', 'web2', 'worker1', 'stg']);
  });

  it('comma means AND, several selectors mean OR', () => {
    expect(pick('stage=production,role=web')).toEqual(['web1', 'web2']);
    expect(pick(['role=worker', 'stg'])).toEqual(['worker1', 'stg']);
  });

  it('falls back to default_selector and honours --limit', () => {
    expect(pick(undefined)).toEqual(['stg']);
    expect(pick('production', 2)).toEqual(['web1', 'web2']);
  });

  it('names the choices when nothing matches', () => {
    expect(() => pick('prod')).toThrow(/selector `prod` matches no host/);
    try {
      pick('prod');
    } catch (e) {
      expect((e as { hint: string }).hint).toContain(
        'web1, web2, worker1, stg, production (stage), staging (stage)',
      );
    }
  });
});
