import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { composeScript, readScriptReport } from '../../src/engine/compose.js';
import { parseRemoteState } from '../../src/layout/remote-state.js';
import { lines, quote, sh, type ShellText } from '../../src/remote/sh.js';
import { cleanup } from '../../src/stages/cleanup.js';
import { discard } from '../../src/stages/discard.js';
import { lock } from '../../src/stages/lock.js';
import { probe } from '../../src/stages/probe.js';
import { release } from '../../src/stages/release.js';
import { setup } from '../../src/stages/setup.js';
import { shared } from '../../src/stages/shared.js';
import { symlink } from '../../src/stages/symlink.js';
import type { ReleaseContext } from '../../src/stages/types.js';
import { releaseContext } from '../support/stage-context.js';
import { unlock } from '../../src/stages/unlock.js';
import { upload } from '../../src/stages/upload.js';

const root = "/srv/it's $(app)";
const { config } = parseConfig(
  `application: a\nkeep_releases: 2\nshared_dirs: [storage, "var/log files"]\nshared_files: [.env, {path: config/x.json, optional: true}]\nhosts:\n  web: {deploy_path: /srv/app}\n`,
  'deploy.yml',
  {},
);

function ctx(over: Partial<ReleaseContext> = {}): ReleaseContext {
  return releaseContext(config, root, '20260101-000003', {
    lockToken: 'tok-123',
    source: { root: '/src', entries: [], revision: 'abc' },
    ...over,
  });
}
const text = (cmds: { text: string }[]) => cmds.map((c) => c.text).join('\n');
const q = (rel: string) => quote(rel ? `${root}/${rel}` : root);

describe('stage plans', () => {
  it('quote every path: the deploy path never appears raw', () => {
    for (const stage of [setup, lock, probe, release, upload, shared, symlink, cleanup, unlock]) {
      const t = text(stage.plan(ctx() as never));
      expect(t, stage.id).not.toMatch(/(^|[^'])\/srv\/it's/);
      expect(t, stage.id).toContain(`'/srv/it'\\''s $(app)/`);
    }
  });

  it('setup refuses a current that is not a symlink before creating anything', () => {
    const [check, mk] = setup.plan(ctx());
    expect(check!.text).toContain('[ ! -L');
    expect(mk!.text).toMatch(/^mkdir -p .*releases.*shared.*\.deploy/);
  });

  it('lock is a mkdir that reports the holder and exits 75 when held', () => {
    const t = text(lock.plan(ctx()));
    expect(t).toContain(`if mkdir ${q('.deploy/lock')} 2>/dev/null`);
    expect(t).toContain('exit 75');
    expect(t).toContain('"token":"tok-123"');
  });

  it('unlock removes only a lock holding our token', () => {
    expect(text(unlock.plan(ctx()))).toContain(`grep -qF tok-123 ${q('.deploy/lock')}/owner.json`);
  });

  it('release logs started first and never reuses a directory (mkdir without -p)', () => {
    const [log, mk] = release.plan(ctx());
    expect(log!.text).toContain('"status":"started"');
    expect(mk!.text).toBe(`mkdir ${q('releases/20260101-000003')}`);
  });

  it('upload extracts one tar stream into the release', () => {
    // Without a plan from the engine, upload is full: extract, then file the upload manifest.
    expect(text(upload.plan(ctx()))).toContain(
      `tar --no-unquote -x --no-same-owner -p -f - -C ${q('releases/20260101-000003')}`,
    );
  });

  it('shared checks required files first, then links dirs and files relatively', () => {
    const t = text(shared.plan(ctx()));
    expect(t.indexOf('__missing')).toBeLessThan(t.indexOf('__ss_link '));
    expect(t).toContain(`__ss_link ${q('releases/20260101-000003/storage')} ../../shared/storage`);
    expect(t).toContain(
      `__ss_link ${q('releases/20260101-000003/var/log files')} '../../../shared/var/log files'`,
    );
    expect(t).not.toContain('config/x.json; __missing=1');
    // __ss_link replaces what is at its first argument: only ever a path inside the new release.
    const replaced = [...t.matchAll(/__ss_link ('(?:[^']|'\\'')*'|\S+) /g)].map((m) => m[1]!);
    expect(replaced.length).toBeGreaterThan(0);
    for (const r of replaced)
      expect(r.startsWith(`'${root.replace(/'/g, `'\\''`)}/releases/20260101-000003/`), r).toBe(true);
  });

  it('symlink renames a relative temporary link over current and logs success', () => {
    const [manifest, sw, log] = symlink.plan(ctx());
    // The release's files as they go live: cleanup later rescues what the app wrote after this.
    expect(manifest!.text).toContain(`${q('.deploy/manifests/20260101-000003.list')}`);
    expect(sw!.text).toContain(`ln -s releases/20260101-000003 ${q('.current.20260101-000003.tmp')}`);
    expect(sw!.text).toContain(`mv -T ${q('.current.20260101-000003.tmp')} ${q('current')}`);
    expect(log!.text).toContain('"status":"success"');
  });

  it('cleanup removes only logged releases beyond keep, never current', () => {
    const remote = parseRemoteState(
      [
        '@@shipshape-probe-begin',
        'current-link\treleases/20260101-000002',
        'release\t20260101-000001',
        'release\t20260101-000002',
        'release\tmanual-backup',
        'log\t{"name":"20260101-000001","status":"success"}',
        'log\t{"name":"20260101-000002","status":"success"}',
        '@@shipshape-probe-end',
      ].join('\n'),
    );
    const plan = text(cleanup.plan(ctx({ remote })));
    // The newest pruned release becomes the spare the next incremental deploy builds on.
    expect(plan).toContain('__ss_remove_release 20260101-000001 spare');
    expect(plan).toContain(`mv -T -- ${q('releases')}/"$1" ${q('.deploy/spare')}`);
    expect(plan).toContain(`nohup find ${q('.deploy/trash')} -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +`);
    expect(plan).not.toContain("rm -rf -- '");
    expect(plan).not.toContain('20260101-000002');
    expect(plan).not.toContain('manual-backup');
    // The upload starts listing it for the cleanup, in the background, once its own walks are done.
    const up = upload.plan(ctx({ remote }));
    expect(up.at(-1)!.text).toContain(`find . -type f`);
    expect(up.at(-1)!.text).toContain(`${q('.deploy')}/prune-20260101-000001.list`);
    // Unless the probe began it, having guessed the same release; another guess does not count.
    const guessed = (name: string) => text(upload.plan(ctx({ remote: { ...remote, listedAhead: name } })));
    expect(guessed('20260101-000001')).not.toContain('prune-');
    expect(guessed('20260101-000002')).toContain('prune-20260101-000001.list');

    // Without incremental uploads nothing would use a spare: pruned by one rename into the trash,
    // the delete itself runs in the background.
    const full = text(cleanup.plan(ctx({ remote, config: { ...config, upload: 'full' } })));
    expect(full).toContain('__ss_remove_release 20260101-000001 trash');
    expect(full).toContain(`mv -T -- ${q('releases')}/"$1" ${q('.deploy/trash')}/"$1".$$`);
    expect(full).not.toContain('20260101-000001 spare');
    expect(text(upload.plan(ctx({ remote, config: { ...config, upload: 'full' } })))).not.toContain('prune-');
    // A spare left from before, which this mode does not use, is given up (once cleared).
    const steps = (c: ReleaseContext) => cleanup.plan(c).map((cmd) => cmd.text);
    expect(steps(ctx({ remote, config: { ...config, upload: 'full' } }))).toContain('__ss_retire_spare');
    expect(steps(ctx({ remote }))).not.toContain('__ss_retire_spare');
  });

  it('discard removes the failed release and logs why', () => {
    const t = text(discard.plan({ ...ctx(), reason: 'ESTAGE: boom' }));
    expect(t).toContain(`rm -rf -- ${q('releases/20260101-000003')}`);
    expect(t).toContain('"status":"failed"');
    expect(t).toContain('"reason":"ESTAGE: boom"');
  });
});

describe('composeScript', () => {
  it('marks stages and failing commands so the executor can name them', async () => {
    const { execFileSync } = await import('node:child_process');
    const script = composeScript([
      { id: 'one', commands: [sh`true`] },
      { id: 'two', commands: [sh`true`, sh`echo boom >&2; false`] },
    ]).text;
    let stderr = '';
    try {
      execFileSync('/bin/sh', ['-c', script], { stdio: 'pipe' });
    } catch (e) {
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(readScriptReport(stderr)).toEqual({
      started: ['one', 'two'],
      failed: { stage: 'two', index: 1, code: 1 },
    });
  });
});

describe('composeScript: every step counts', () => {
  const run = async (commands: ShellText[]) => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('/bin/sh', ['-c', composeScript([{ id: 'st', commands }]).text], {
      encoding: 'utf8',
    });
    return { status: r.status, report: readScriptReport(r.stderr), stdout: r.stdout };
  };

  // Each form a plan uses to put several commands into one: an earlier failure must end the script there.
  it.each([
    ['lines()', () => lines(sh`false`, sh`echo after`)],
    [
      'a multi-line template',
      () => sh`false
echo after`,
    ],
    ['sh.join with newlines', () => sh.join([sh`false`, sh`echo after`], '\n')],
    ['sh.join with semicolons', () => sh.join([sh`false`, sh`echo after`], '; ')],
    ['a function whose first command fails', () => lines(sh`__f() { false; echo inside; }`, sh`__f`)],
  ])('%s: a failing first line stops the script and names its command', async (_name, make) => {
    const r = await run([sh`true`, make(), sh`echo never`]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toMatch(/after|inside|never/);
    expect(r.report.failed).toEqual({ stage: 'st', index: 1, code: 1 });
  });

  it('an explicit exit code reaches the executor unchanged', async () => {
    const r = await run([sh`exit 66`]);
    expect(r.status).toBe(66);
    expect(r.report.failed).toEqual({ stage: 'st', index: 0, code: 66 });
  });

  it('conditions and || still decide for themselves', async () => {
    const r = await run([sh`if false; then echo no; fi`, sh`false || echo recovered`, sh`echo end`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('recovered\nend\n');
  });
});
