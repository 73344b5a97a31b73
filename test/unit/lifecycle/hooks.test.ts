import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { isDeployError } from '../../../src/definitions/errors.js';
import { DEPLOY } from '../../../src/engine/pipeline.js';
import { HOOK_STAGES } from '../../../src/definitions/hook-points.js';
import { hookBook, hookCommand, withHooks } from '../../../src/engine/hooks.js';
import { hookEnv, hostRunContext } from '../../../src/engine/hook-env.js';
import {
  deployPhases,
  finishJoinsSwitch,
  linkJoinsUpload,
  sentPhases,
} from '../../../src/engine/hooks-phases.js';
import { selectHosts } from '../../../src/engine/selector.js';
import { releaseContext } from '../../support/stage-context.js';

const load = (yaml: string) => parseConfig(yaml, 'deploy.yml', {}).config;

const HOSTS = `hosts:
  web1: {deploy_path: /srv/a, stage: prod, labels: {role: web}}
  web2: {deploy_path: /srv/a, stage: prod, labels: {role: web}}
  worker: {deploy_path: /srv/a, stage: prod, labels: {role: worker}}
`;

function book(yaml: string) {
  const config = load(`application: a\n${yaml}${HOSTS}`);
  return { config, book: hookBook(config, selectHosts(config, 'prod')) };
}

describe('the link phase in the upload phase script', () => {
  const joins = (yaml: string, fetching = false) => {
    const { book: b } = book(yaml);
    return linkJoinsUpload(b, deployPhases(b), fetching);
  };

  it('joins it when nothing runs on this machine between the two, remote steps or not', () => {
    expect(joins('')).toBe(true);
    expect(joins('hooks:\n  before:\n    shared: [warm]\n  after:\n    upload: [check]\n')).toBe(true);
    // A local build before the upload runs before any host is touched; one after the link phase after it.
    expect(joins('hooks:\n  before:\n    upload: [{run: build, local: true}]\n')).toBe(true);
    expect(joins('hooks:\n  after:\n    shared: [{run: note, local: true}]\n')).toBe(true);
  });

  it('keeps it apart around a local step between them, or for a fetch bundle to drop once the upload is over', () => {
    expect(joins('hooks:\n  after:\n    upload: [{run: notify, local: true}]\n')).toBe(false);
    expect(joins('hooks:\n  after:\n    probe: [{run: notify, local: true}]\n')).toBe(false);
    expect(joins('hooks:\n  before:\n    shared: [{run: notify, local: true}]\n')).toBe(false);
    expect(joins('', true)).toBe(false);
  });
});

describe('the finish phase in the switch phase script', () => {
  const joins = (yaml: string, hosts = 1, checksHealth = false) => {
    const { book: b } = book(yaml);
    return finishJoinsSwitch(b, deployPhases(b), hosts, checksHealth);
  };

  it('joins it for one host with no health check, remote steps of the finish phase or not', () => {
    expect(joins('')).toBe(true);
    expect(joins('hooks:\n  before:\n    cleanup: [note]\n  after:\n    unlock: [note]\n')).toBe(true);
    // Before the switch (a build) or once the run is over (a notification): not between the two.
    expect(joins('hooks:\n  before:\n    symlink: [{run: note, local: true}]\n')).toBe(true);
    expect(joins('hooks:\n  after:\n    unlock: [{run: notify, local: true}]\n')).toBe(true);
  });

  it('keeps it apart for several hosts, a health check, a step on this machine between, or a remote step before or after the switch', () => {
    expect(joins('', 2)).toBe(false);
    expect(joins('', 1, true)).toBe(false);
    expect(joins('hooks:\n  after:\n    symlink: [{run: notify, local: true}]\n')).toBe(false);
    expect(joins('hooks:\n  before:\n    cleanup: [{run: notify, local: true}]\n')).toBe(false);
    // A migration an interrupt must still be able to stop before `current` moves.
    expect(joins('hooks:\n  before:\n    symlink: [migrate]\n')).toBe(false);
    // A hook after the switch too: an interrupt stops it, and the finish runs in a script of its own.
    expect(joins('hooks:\n  after:\n    symlink: [reload]\n')).toBe(false);
  });

  it('sends the joined phases in the script of the phase before them', () => {
    const { book: b } = book('');
    const phases = deployPhases(b);
    const ids = (link: boolean, finish: boolean) =>
      sentPhases(phases, { link, finish }).map(
        ([name, stages]) => `${name}: ${stages.map((s) => s.id).join(' ')}`,
      );
    expect(ids(true, true)).toEqual([
      'prepare: setup lock probe changes',
      'upload: release upload shared writable recipe-hooks',
      'switch: symlink recipe-hooks-after cleanup unlock',
    ]);
    expect(ids(false, false)).toHaveLength(5);
  });
});

describe('hookBook', () => {
  it('`once` picks the first selected host that passes the other filters', () => {
    const { book: b } = book(`hooks:
  before:
    symlink:
      - {run: migrate, once: true}
      - {run: workers-only, once: true, labels: {role: worker}}
      - everywhere
`);
    expect(b.remote('before', 'symlink', 'web1')).toEqual(['migrate', 'everywhere']);
    expect(b.remote('before', 'symlink', 'web2')).toEqual(['everywhere']);
    expect(b.remote('before', 'symlink', 'worker')).toEqual(['workers-only', 'everywhere']);
  });

  it('expands tasks, nesting their filters, and keeps local steps apart', () => {
    const { book: b } = book(`tasks:
  assets: [{run: npm run build, local: true}, {run: cache, hosts: [web2]}]
  release-tasks: [{task: assets}, warm]
hooks:
  after:
    shared: [{task: release-tasks, labels: {role: web}}]
`);
    expect(b.remote('after', 'shared', 'web1')).toEqual(['warm']);
    expect(b.remote('after', 'shared', 'web2')).toEqual(['cache', 'warm']);
    expect(b.remote('after', 'shared', 'worker')).toEqual([]);
    expect(b.local('after', 'shared')).toEqual(['npm run build']);
    expect(b.hasRemote('after', 'shared')).toBe(true);
    expect(b.hasRemote('before', 'shared')).toBe(false);
  });

  it('a local step whose filters match no selected host does not run', () => {
    const { book: b } = book(
      `hooks:\n  before:\n    upload: [{run: build, local: true, hosts: [elsewhere]}]\n`,
    );
    expect(b.local('before', 'upload')).toEqual([]);
  });
});

describe('withHooks and the phases', () => {
  it('adds hook stages only where a host has remote steps, in place around the stage', () => {
    const { book: b } = book(
      `hooks:\n  before:\n    symlink: [check]\n  after:\n    symlink: [{run: notify, local: true}]\n`,
    );
    expect(withHooks(DEPLOY.switch, b).map((s) => s.id)).toEqual(['before:symlink', 'symlink']);
    const phases = deployPhases(b);
    expect(Object.keys(phases)).toEqual(Object.keys(DEPLOY));
    expect(phases.prepare.map((s) => s.id)).toEqual(DEPLOY.prepare.map((s) => s.id));
  });

  it('hook commands run in the release (deploy_path before it exists), quoted, in a subshell', () => {
    const { config, book: b } = book(
      `hooks:\n  before:\n    setup: [whoami]\n  after:\n    upload: ["echo 'x' && touch $(pwd)/y"]\n`,
    );
    const ctx = releaseContext(config, "/srv/it's app", '20260101-000000', {
      alias: 'web1',
      host: config.hosts.web1!,
    });
    const paths = ctx.paths;
    const [before] = withHooks(DEPLOY.prepare, b);
    const env = hookEnv(hostRunContext(ctx));
    expect(before!.plan(ctx).map((c) => c.text)).toEqual([hookCommand(paths.root, 'whoami', env).text]);
    const after = withHooks(DEPLOY.upload, b).find((s) => s.id === 'after:upload')!;
    // The run's context is exported by the subshell (never an argument), and stdout joins stderr
    // so the executor streams both in order.
    expect(after.plan(ctx)[0]!.text).toBe(
      `(set +e; export SHIPSHAPE_APPLICATION=a SHIPSHAPE_HOST=web1 SHIPSHAPE_STAGE=prod SHIPSHAPE_DEPLOY_PATH='/srv/it'\\''s app' SHIPSHAPE_RELEASE=20260101-000000 SHIPSHAPE_RELEASE_PATH='/srv/it'\\''s app/releases/20260101-000000' SHIPSHAPE_PREVIOUS_RELEASE='' SHIPSHAPE_REVISION='' SHIPSHAPE_USER=ann; cd '/srv/it'\\''s app/releases/20260101-000000' || exit; eval 'echo '\\''x'\\'' && touch $(pwd)/y') 1>&2`,
    );
    expect(after.shown!(ctx)).toEqual(["echo 'x' && touch $(pwd)/y"]);
  });
});

describe('hook points', () => {
  it('name every deploy stage plus rollback, so every stage can have hooks', () => {
    // Recipe hooks are hook points already; hooks around them would only confuse.
    const stageIds = Object.values(DEPLOY)
      .flat()
      .map((s) => s.id)
      .filter((id) => !id.startsWith('recipe-hooks'));
    expect([...HOOK_STAGES].sort()).toEqual([...stageIds, 'rollback'].sort());
  });
});

describe('hooks and tasks in deploy.yml', () => {
  const problems = (yaml: string): string[] => {
    try {
      parseConfig(`application: a\n${yaml}hosts:\n  web: {deploy_path: /srv/a}\n`, 'deploy.yml', {});
      return [];
    } catch (e) {
      if (!isDeployError(e, 'ECONFIG')) throw e;
      return e.details.list;
    }
  };

  it('reports an unknown stage with a suggestion, a missing task, a cycle, and a health check with both url and command', () => {
    expect(problems(`hooks:\n  before:\n    symlnk: [x]\n`)).toEqual([
      'deploy.yml:4:5: hooks.before.symlnk: unknown key `symlnk` — did you mean `symlink`?',
    ]);
    expect(problems(`hooks:\n  after:\n    shared: [{task: nope}]\ntasks: {}\n`)).toEqual([
      'deploy.yml:4:21: hooks.after.shared.0.task: no task `nope` (tasks: none)',
    ]);
    expect(problems(`tasks:\n  a: [{task: b}]\n  b: [{task: a}]\n`)[0]).toContain('task cycle a -> b -> a');
    expect(problems(`healthcheck: {url: "http://x/", command: "true"}\n`)[0]).toContain(
      'set exactly one of `url` and `command`',
    );
  });

  it('fills the health check defaults', () => {
    const config = load(
      `application: a\nhealthcheck: {url: "http://127.0.0.1/up"}\nhosts:\n  web: {deploy_path: /srv/a}\n`,
    );
    expect(config.healthcheck).toEqual({
      url: 'http://127.0.0.1/up',
      expect_status: 200,
      timeout: 5,
      retries: 3,
      interval: 2,
    });
  });
});
