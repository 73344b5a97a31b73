import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { releasesOf, runCli, writeTree } from '../support/project.js';
import { APP_USER, describeRealServer, realProject, realSuite, runAs } from '../support/real-server.js';

/**
 * Names the app gives files on the server, where shipshape lists, compares and reports them: no
 * name may keep a deploy from going on, cost a file, or read as a line of shipshape's own report.
 */
describeRealServer('names the app writes on a real server', () => {
  const suite = realSuite();

  function project(config: Record<string, unknown>, files: Record<string, string>) {
    const p = realProject(suite, 'names', config, files, 'shipshape-names-');
    let n = 0;
    /** A deploy of a new version (index.php changes), which must succeed. */
    const ok = async () => {
      writeTree(p.source, { 'index.php': `v${++n}\n` });
      const r = await runCli(['-c', p.file, 'web'], { env: { GITHUB_ACTIONS: '', GITLAB_CI: '' } });
      expect(r.code, r.output).toBe(0);
      return r;
    };
    return { ...p, ok };
  }

  it('a name that is not UTF-8, in a writable dir of the live release: the next deploy goes on, and the file is rescued when its release is pruned', async () => {
    const p = project({ keep_releases: 1, writable_dirs: ['exports'] }, { 'exports/.keep': '' });
    await p.ok();
    const first = p.live();
    // The app names a file in Latin-1 (byte 0xFF), as an old PHP app on a server does.
    runAs(APP_USER, `printf 'report\\n' > "$1/caf$(printf '\\351').csv"`, [
      path.join(p.deployPath, 'current/exports'),
    ]);

    const next = await p.ok();
    expect(next.output).toContain(
      `full upload: ${first} holds exports/caf\\xe9.csv, whose name is not valid UTF-8`,
    );
    // The new release is the source's alone; the file stayed where the app wrote it, until the
    // cleanup of keep_releases: 1 moved it out of the release it pruned.
    expect(p.live()).not.toBe(first);
    expect(releasesOf(p.deployPath)).toEqual([p.live()]);
    expect(fs.readdirSync(path.join(p.deployPath, 'current/exports'))).toEqual(['.keep']);
    expect(next.output).toContain(`release ${first}: the app wrote 1 file(s) into it after it went live`);
    const rescued = path.join(p.deployPath, 'shared/.rescued', first, 'exports');
    const names = fs.readdirSync(rescued, { encoding: 'buffer' });
    expect(names).toEqual([Buffer.from('caf\xe9.csv', 'latin1')]);
    expect(fs.readFileSync(Buffer.concat([Buffer.from(`${rescued}/`), names[0]!]), 'utf8')).toBe('report\n');
    // And the deploy after that is incremental again.
    const second = p.live();
    expect((await p.ok()).output).toContain(`incremental upload from ${second}`);
  });

  it("a name with a newline, made by the app in public/: the deploy's report and `deploy verify` show it as one name, and no line of it reads as shipshape's own", async () => {
    const p = project({ public_dir: 'public', writable_dirs: ['public'] }, { 'public/app.css': 'css\n' });
    await p.ok();
    // Each name's second line is a report line of the deploy (a warning, a rescue that never
    // happened) or of verify (a failed check).
    const forged = [
      'a\n@@shipshape-public warn FORGED warning',
      'b\n@@shipshape-rescued-seed 20990101-000000 77',
      'c\n@@shipshape-verify fail FORGED check',
    ];
    for (const name of forged)
      runAs(APP_USER, 'printf x > "$1/$2"', [path.join(p.deployPath, 'current/public'), name]);

    const next = await p.ok();
    expect(next.output).not.toContain('warn: release 20990101-000000');
    expect(next.output).not.toMatch(/warn: FORGED/);
    expect(next.output).toContain(
      'the running app created a\\n@@shipshape-public warn FORGED warning, b\\n@@shipshape-rescued-seed 20990101-000000 77, c\\n@@shipshape-verify fail FORGED check inside the live release',
    );
    for (const name of forged)
      expect(fs.readFileSync(path.join(p.deployPath, 'shared/public', name), 'utf8')).toBe('x');

    const verify = await runCli(['-c', p.file, 'verify', 'web']);
    expect(verify.code, verify.output).toBe(0);
    expect(verify.output).not.toMatch(/^\s*\S+ FORGED check/m);
    expect(verify.output).toContain('current/public/c\\n@@shipshape-verify fail FORGED check -> ');
  });
});
