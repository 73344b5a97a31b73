import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { releasesOf, runCli, writeTree } from '../support/project.js';
import {
  APP_USER,
  DEPLOY_USER,
  describeRealServer,
  realProject,
  realSuite,
  runAs,
  startAs,
  tryAs,
  uidOf,
} from '../support/real-server.js';
import { startS3Server } from '../support/s3-server.js';
import { quote } from '../../src/remote/sh.js';

/**
 * Issue "Real servers": a non-root deploy user over sshd, an app user that writes, hard-link
 * protection on. Every scenario writes as the app would and reads the result on disk.
 */
describeRealServer('a real server: deploy user, app user, protected hard links', () => {
  const suite = realSuite();

  function project(config: Record<string, unknown>, files: Record<string, string>) {
    const p = realProject(suite, 'real', config, files);
    const deploy = async (args: string[] = []) => runCli(['-c', p.file, ...args, 'web']);
    const ok = async (args: string[] = []) => {
      const res = await deploy(args);
      expect(res.code, res.output).toBe(0);
      return res;
    };
    return { ...p, deploy, ok, current: (f = '') => path.join(p.deployPath, 'current', f) };
  }

  /**
   * A remote step the test arms later: the hook runs step.sh once the test has written it (in a
   * directory the deploy user can read), and does nothing before.
   */
  function armedStep(prefix: string): { file: string; hook: string } {
    const steps = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.chmodSync(steps, 0o755);
    const file = path.join(steps, 'step.sh');
    return { file, hook: `[ ! -f ${quote(file)} ] || sh ${quote(file)}` };
  }

  /** One release at a time, and an exports/ dir the app writes into (by ACL). */
  const exportsApp = () =>
    project({ keep_releases: 1, writable_dirs: ['exports'] }, { 'index.php': 'v0\n', 'exports/.keep': '' });

  /**
   * What a user finds after the deploy whose cleanup replaced the spare that release `first` became:
   * the warning, and exports/`rel` under shared/.rescued/, still the app user's; the next deploy
   * reuses a spare again.
   */
  async function expectRescuedFromSpare(
    p: ReturnType<typeof exportsApp>,
    output: string,
    first: string,
    rel: string,
    body: string,
  ) {
    expect(output).toContain(
      `release ${first}: 1 file(s) were written into it late, after its check at pruning`,
    );
    const rescued = path.join(p.deployPath, 'shared/.rescued', first, 'exports', rel);
    expect(fs.readFileSync(rescued, 'utf8')).toBe(body);
    expect(fs.statSync(rescued).uid).toBe(uidOf(APP_USER));
    writeTree(p.source, { 'index.php': `after ${first}\n` });
    expect((await p.ok()).output).toMatch(/in the directories of a pruned release/);
  }

  it('logs in as the deploy user and the release belongs to it', async () => {
    const p = project({}, { 'index.php': '<?php echo 1;\n' });
    await p.ok();
    const st = fs.statSync(p.current('index.php'));
    expect(st.uid).toBe(uidOf(DEPLOY_USER));
    // .deploy/ (lock owner, release log, manifests) is not world-readable.
    expect(fs.statSync(path.join(p.deployPath, '.deploy')).mode & 0o077).toBe(0);
    expect(tryAs(APP_USER, `ls ${path.join(p.deployPath, '.deploy')}`).status).not.toBe(0);
  });

  it.each(['acl', 'chmod'])(
    'a SQLite database at an optional shared path is created empty in shared/, the app writes it after the first deploy, and its rows stay live (writable_mode %s)',
    async (mode) => {
      const p = project(
        // As the Laravel and Django recipes declare their SQLite files: created empty, writable by the app.
        {
          writable_mode: mode,
          shared_dirs: ['storage'],
          shared_files: [{ path: 'data/app.sqlite', optional: true, when_absent: 'empty' }],
        },
        { 'index.php': 'v1\n', 'data/.keep': '', 'storage/.keep': '' },
      );
      await p.ok();
      // The app, as the app user, with the real sqlite3: it writes its journal next to the real file.
      const sql = (statement: string) =>
        runAs(APP_USER, 'sqlite3 "$1" "$2"', [p.current('data/app.sqlite'), statement]);
      sql("create table orders (v text); insert into orders values ('row1');");
      writeTree(p.source, { 'index.php': 'v2\n' });
      const second = await p.ok();
      expect(fs.lstatSync(p.current('data/app.sqlite')).isSymbolicLink()).toBe(true);
      const inShared = path.join(p.deployPath, 'shared/data/app.sqlite');
      expect(execFileSync('sqlite3', [inShared, 'select v from orders'], { encoding: 'utf8' })).toBe(
        'row1\n',
      );
      sql("insert into orders values ('row2');");
      writeTree(p.source, { 'index.php': 'v3\n' });
      await p.ok();
      expect(sql('select v from orders order by v;')).toBe('row1\nrow2\n');
      expect(second.output).not.toMatch(/error/i);
    },
  );

  it('skip_unchanged: what the app user wrote into shared/ and its writable dir stays, owned by it, whether a release is made or not', async () => {
    const p = project(
      { skip_unchanged: true, shared_dirs: ['storage'], writable_dirs: ['storage', 'exports'] },
      { 'index.php': 'v1\n', 'storage/.keep': '', 'exports/.keep': '' },
    );
    await p.ok();
    const first = p.live();
    runAs(APP_USER, `printf 'orders\\n' > ${quote(p.current('storage/orders.txt'))}`);
    runAs(APP_USER, `printf 'report\\n' > ${quote(p.current('exports/report.csv'))}`);
    const skipped = await p.ok();
    expect(skipped.output).toMatch(
      /web: unchanged: release \S+ already holds this source.*compared with its upload manifest/,
    );
    expect(p.live()).toBe(first);
    expect(releasesOf(p.deployPath)).toEqual([first]);
    expect(fs.readFileSync(p.current('exports/report.csv'), 'utf8')).toBe('report\n');
    // The deploy user recorded what it compared; the next run only checks that record.
    expect((await p.ok()).output).toMatch(/already holds this source.*as recorded when last compared/);
    // Until the app writes into the release again: then the release lists otherwise, and it compares.
    runAs(APP_USER, `printf 'report 2\n' > ${quote(p.current('exports/report-2.csv'))}`);
    expect((await p.ok()).output).toMatch(/already holds this source.*compared with its upload manifest/);
    expect(p.live()).toBe(first);

    writeTree(p.source, { 'index.php': 'v2\n' });
    const made = await p.ok();
    expect(made.output).toMatch(/skip_unchanged: making a release: the source differs/);
    expect(p.live()).not.toBe(first);
    const orders = path.join(p.deployPath, 'shared/storage/orders.txt');
    expect(fs.readFileSync(orders, 'utf8')).toBe('orders\n');
    expect(fs.statSync(orders).uid).toBe(uidOf(APP_USER));
    for (const [name, text] of [
      ['report.csv', 'report\n'],
      ['report-2.csv', 'report 2\n'],
    ]) {
      const report = path.join(p.deployPath, 'releases', first, 'exports', name!);
      expect(fs.readFileSync(report, 'utf8')).toBe(text);
      expect(fs.statSync(report).uid).toBe(uidOf(APP_USER));
    }
  });

  it('a file the app wrote into the live release before its path was shared is moved into shared/ and linked in both releases', async () => {
    const p = project({ writable_dirs: ['data'] }, { 'index.php': 'v1\n', 'data/.keep': '' });
    await p.ok();
    const first = p.live();
    runAs(APP_USER, `printf 'orders\\n' > ${p.current('data/db.sqlite3')}`);
    // The user notices and adds the path to shared_files.
    const cfg = fs.readFileSync(p.file, 'utf8');
    fs.writeFileSync(p.file, `${cfg}shared_files:\n  - path: data/db.sqlite3\n    optional: true\n`);
    // deploy verify flags it first: a shared path whose real file lives inside a release.
    const flagged = await runCli(['-c', p.file, 'verify', 'web']);
    expect(flagged.code, flagged.output).toBe(1);
    expect(flagged.stdout).toContain(
      `releases/${first}/data/db.sqlite3 is a real file or directory inside the release`,
    );
    writeTree(p.source, { 'index.php': 'v2\n' });
    const res = await p.ok();
    expect(res.output).toMatch(/data\/db\.sqlite3.*(adopted|moved into shared)/);
    const clean = await runCli(['-c', p.file, 'verify', 'web']);
    expect(clean.code, clean.output).toBe(0);
    expect(fs.readFileSync(path.join(p.deployPath, 'shared/data/db.sqlite3'), 'utf8')).toBe('orders\n');
    for (const rel of [first, p.live()]) {
      const at = path.join(p.deployPath, 'releases', rel, 'data/db.sqlite3');
      expect(fs.lstatSync(at).isSymbolicLink(), rel).toBe(true);
      expect(fs.readFileSync(at, 'utf8')).toBe('orders\n');
    }
    // It still belongs to the app, which can go on writing.
    expect(fs.statSync(path.join(p.deployPath, 'shared/data/db.sqlite3')).uid).toBe(uidOf(APP_USER));
    runAs(APP_USER, `printf 'more\\n' >> ${p.current('data/db.sqlite3')}`);
  });

  it.each([
    ['acl', 'delete'],
    ['chmod', 'wal'],
  ])(
    'a SQLite database the app keeps in its release, open while the deploy shares it: adopted into shared/, where the app goes on writing it through its open connection and new ones, journal and all (writable_mode %s, journal_mode %s)',
    async (mode, journal) => {
      const p = project(
        { writable_mode: mode, writable_dirs: ['database'] },
        { 'index.php': 'v1\n', 'database/.gitignore': '*.sqlite*\n' },
      );
      await p.ok();
      const db = `${fs.realpathSync(p.current('database'))}/database.sqlite`;
      const sql = (at: string, statement: string) =>
        tryAs(APP_USER, `sqlite3 ${quote(at)} ${quote(statement)}`);
      const created = sql(
        db,
        `pragma journal_mode=${journal}; create table t (v text); insert into t values ('row1');`,
      );
      expect(created.status, created.output).toBe(0);
      // A worker of the app with the database open: it reads statements from a fifo, one connection throughout.
      const fifos = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-sqlite-'));
      fs.chmodSync(fifos, 0o755);
      const fifo = path.join(fifos, 'statements');
      execFileSync('mkfifo', ['-m', '666', fifo]);
      const holder = startAs(APP_USER, 'exec 3<>"$2"; exec sqlite3 "$1" <&3', [db, fifo]);
      const rows = (at: string) => sql(at, 'select group_concat(v) from t').output;
      const current = p.current('database/database.sqlite');
      const inShared = path.join(p.deployPath, 'shared/database/database.sqlite');
      try {
        fs.writeFileSync(fifo, "insert into t values ('open-before');\n");
        await until(() => rows(db).includes('open-before'));

        // The Laravel recipe's entry: the user shares the database from now on.
        fs.appendFileSync(
          p.file,
          'shared_files:\n  - path: database/database.sqlite\n    optional: true\n    when_absent: empty\n',
        );
        writeTree(p.source, { 'index.php': 'v2\n' });
        const res = await p.ok();
        expect(res.output).toMatch(/shared\/database\/database\.sqlite: adopted from the live release/);
        expect(fs.lstatSync(current).isSymbolicLink()).toBe(true);

        // The open connection goes on writing, into the same file, now in shared/.
        fs.writeFileSync(fifo, "insert into t values ('open-after');\n");
        await until(() => rows(inShared).includes('open-after'));
        const exited = new Promise((r) => holder.on('exit', r));
        fs.writeFileSync(fifo, '.quit\n');
        await exited;
      } finally {
        holder.kill();
        fs.rmSync(fifos, { recursive: true, force: true });
      }
      // An administrator looks at it (its -wal and -shm go when the last connection closes), then
      // the app writes through current: SQLite makes its journal beside the file, in shared/database/.
      expect(execFileSync('sqlite3', [inShared, 'select count(*) from t'], { encoding: 'utf8' })).toBe('3\n');
      const added = sql(current, "insert into t values ('new');");
      expect(added.status, added.output).toBe(0);
      expect(rows(current)).toBe('row1,open-before,open-after,new\n');
    },
  );

  it('with keep_releases 1, what the app wrote into a release (odd names, its own 0600 files) is still under the deploy path five deploys later', async () => {
    const p = exportsApp();
    await p.ok();
    const written = new Map<string, string>([
      ['exports/report\nwith newline.csv', 'newline body\n'],
      ['exports/secret.key', 'private body\n'],
      ['exports/tab\tname', 'tab body\n'],
    ]);
    for (const [rel, body] of written) {
      runAs(APP_USER, `printf '%s' "$1" > "$2" && chmod 600 "$2"`, [body, p.current(rel)]);
    }
    const outputs: string[] = [];
    for (let i = 1; i <= 5; i++) {
      writeTree(p.source, { 'index.php': `v${i}\n` });
      outputs.push((await p.ok()).output);
    }
    // Pruning kept a spare, and later deploys were built in it (the path that renames it into place).
    expect(outputs.slice(2).join('\n')).toMatch(/in the directories of a pruned release/);
    const found = contentsUnder(p.deployPath);
    for (const [rel, body] of written) expect(found.has(body), rel).toBe(true);
    const rescued = path.join(p.deployPath, 'shared/.rescued');
    const key = findFile(rescued, 'secret.key');
    expect(key, 'secret.key rescued').toBeDefined();
    const st = fs.statSync(key!);
    expect(st.uid).toBe(uidOf(APP_USER));
    expect(st.mode & 0o777).toBe(0o600);
  });

  /** One more deploy with keep_releases 1: the first release is pruned and kept as the spare. */
  async function deployUntilFirstIsSpare(p: ReturnType<typeof project>) {
    writeTree(p.source, { 'index.php': 'v1\n' });
    await p.ok();
    expect(
      fs.existsSync(path.join(p.deployPath, '.deploy/spare/index.php')),
      'the first release is the spare',
    ).toBe(true);
  }

  it('what a worker still running from a pruned release writes into it after it became the spare is rescued, not deleted', async () => {
    const p = exportsApp();
    await p.ok();
    const first = p.live();
    // A queue worker started in the first release and never restarted.
    const w = await worker(p.current('exports'), ['printf "late body\\n" > late.csv && chmod 600 late.csv']);
    const meta = () => fs.readdirSync(path.join(p.deployPath, '.deploy')).sort();
    const dryRun = async () => {
      const before = meta();
      const d = await p.deploy(['--dry-run']);
      expect(d.code, d.output).toBe(0);
      expect(meta()).toEqual(before);
      return d.output;
    };
    try {
      await deployUntilFirstIsSpare(p);
      writeTree(p.source, { 'index.php': 'v2\n' });
      // A dry run checks the spare as the deploy does, without writing under the deploy path.
      expect(await dryRun()).toMatch(/in the directories of a pruned release/);
      await w.step(0);
      expect(await dryRun()).not.toMatch(/in the directories of a pruned release/);
      const r = await p.ok();
      // Not reused as it is: built from the live release, and the cleanup that replaces the spare moves the file out first.
      expect(r.output).not.toMatch(/in the directories of a pruned release/);
      expect(fs.existsSync(p.current('exports/late.csv'))).toBe(false);
      await expectRescuedFromSpare(p, r.output, first, 'late.csv', 'late body\n');
    } finally {
      w.stop();
    }
  });

  it('what such a worker writes into the spare after the probe read it, on its way into the new release, is rescued and the deploy goes on', async () => {
    // The worker is told to write between the probe's walk of the spare and its rename into the
    // new release: by a remote step before the upload stage, once the test has written it.
    const step = armedStep('shipshape-window-');
    const p = project(
      { keep_releases: 1, writable_dirs: ['exports'], hooks: { before: { upload: [step.hook] } } },
      { 'index.php': 'v0\n', 'exports/.keep': '' },
    );
    await p.ok();
    const first = p.live();
    const w = await worker(p.current('exports'), [
      'printf "window body\\n" > window.csv && chmod 600 window.csv',
    ]);
    try {
      await deployUntilFirstIsSpare(p);
      fs.writeFileSync(step.file, w.stepCommand(0), { mode: 0o644 });
      writeTree(p.source, { 'index.php': 'v2\n' });
      const r = await p.ok();
      expect(r.output).toMatch(/in the directories of a pruned release/);
      expect(r.output).toContain(
        `release ${first}: 1 file(s) were written into it after this deploy's probe read it`,
      );
      const rescued = path.join(p.deployPath, 'shared/.rescued', first, 'exports/window.csv');
      expect(fs.readFileSync(rescued, 'utf8')).toBe('window body\n');
      expect(fs.statSync(rescued).uid).toBe(uidOf(APP_USER));
      expect(fs.existsSync(p.current('exports/window.csv'))).toBe(false);
      expect(fs.readFileSync(p.current('index.php'), 'utf8')).toBe('v2\n');
    } finally {
      w.stop();
      fs.rmSync(path.dirname(step.file), { recursive: true, force: true });
    }
  });

  it('a spare holding what the deploy user may not move is kept and reported at every deploy, never deleted; once opened up, it is rescued', async () => {
    const p = exportsApp();
    await p.ok();
    const first = p.live();
    // A worker from the first release, never restarted, writes into it after it became the spare,
    // in a directory only the app user may read or change; later someone opens that directory up.
    const w = await worker(p.current('exports'), [
      'mkdir -m 700 private && printf "hidden\\n" > private/data.bin',
      'chmod 777 private',
    ]);
    try {
      writeTree(p.source, { 'index.php': 'v1\n' });
      await p.ok();
      await w.step(0);
      const spared = path.join(p.deployPath, '.deploy/spare/exports/private/data.bin');
      for (let i = 2; i <= 3; i++) {
        writeTree(p.source, { 'index.php': `v${i}\n` });
        const r = await p.ok();
        // Not offered to the plan: the release is built from the live one, and the spare stays whole.
        expect(r.output).not.toMatch(/in the directories of a pruned release/);
        expect(r.output).toContain(`the spare (release ${first}, pruned earlier) was kept`);
        expect(fs.readFileSync(spared, 'utf8')).toBe('hidden\n');
      }
      await w.step(1);
      writeTree(p.source, { 'index.php': 'v4\n' });
      await expectRescuedFromSpare(p, (await p.ok()).output, first, 'private/data.bin', 'hidden\n');
    } finally {
      w.stop();
    }
  });

  it('a release whose rescue cannot read what the app wrote is kept, reported, and the deploy succeeds', async () => {
    const p = exportsApp();
    await p.ok();
    const first = p.live();
    runAs(
      APP_USER,
      `mkdir -m 700 ${p.current('exports/private')} && printf 'hidden\\n' > ${p.current('exports/private/data.bin')}`,
    );
    let last = '';
    for (let i = 1; i <= 3; i++) {
      writeTree(p.source, { 'index.php': `v${i}\n` });
      last = (await p.ok()).output;
    }
    expect(releasesOf(p.deployPath)).toContain(first);
    expect(last).toContain(first);
    expect(last).toMatch(/kept|not removed/i);
    expect(
      fs.readFileSync(path.join(p.deployPath, 'releases', first, 'exports/private/data.bin'), 'utf8'),
    ).toBe('hidden\n');
  });

  it('a release switched back after a failed after-symlink hook: what the app wrote into it while it was live is rescued and reported before it goes', async () => {
    // The hook (a cache warm-up, say) lets the app write while the new release is live, then fails.
    const step = armedStep('shipshape-warmup-');
    const p = project(
      { writable_dirs: ['exports'], hooks: { after: { symlink: [step.hook] } } },
      { 'index.php': 'v1\n', 'exports/.keep': '' },
    );
    await p.ok();
    const first = p.live();
    // The app, as the app user, serving through `current`: it writes into whichever release is live.
    const w = await worker(p.current('exports'), [
      `printf 'order 4711, paid\\n' > ${quote(p.current('exports/order-4711.csv'))}`,
    ]);
    try {
      fs.writeFileSync(step.file, `${w.stepCommand(0)}\necho warmup failed >&2\nexit 1\n`, { mode: 0o644 });
      writeTree(p.source, { 'index.php': 'v2\n' });
      const r = await p.deploy();
      expect(r.code, r.output).toBe(4);
      expect(r.output).toContain('EAFTERSWITCH');
      expect(p.live()).toBe(first);
      const second = releasesOf(p.deployPath).find((name) => name > first);
      expect(second, 'the release switched back is gone from releases/').toBeUndefined();
      const left = /release (\S+): the app wrote 1 file\(s\) into it after it went live/.exec(r.output)?.[1];
      expect(left, r.output).toBeDefined();
      expect(left! > first).toBe(true);
      expect(r.output).toContain(`moved to ${p.deployPath}/shared/.rescued/${left}/`);
      const rescued = path.join(p.deployPath, 'shared/.rescued', left!, 'exports/order-4711.csv');
      expect(fs.readFileSync(rescued, 'utf8')).toBe('order 4711, paid\n');
      expect(fs.statSync(rescued).uid).toBe(uidOf(APP_USER));
    } finally {
      w.stop();
      fs.rmSync(path.dirname(step.file), { recursive: true, force: true });
    }
  });

  it('a code file edited on the server inside current is reported and copied to shared/.rescued; release_changes: fail stops the deploy', async () => {
    const p = project({}, { 'index.php': 'v1\n', 'lib/util.php': 'util v1\n' });
    await p.ok();
    const first = p.live();
    // A hotfix by hand, as the deploy user.
    runAs(DEPLOY_USER, `printf 'util hotfix\\n' > ${p.current('lib/util.php')}`);
    const verified = await runCli(['-c', p.file, 'verify', 'web']);
    expect(verified.code, verified.output).toBe(1);
    expect(verified.stdout).toContain(`releases/${first}/lib/util.php was changed on the server`);
    const cfg = fs.readFileSync(p.file, 'utf8');
    fs.writeFileSync(p.file, `${cfg}release_changes: fail\n`);
    writeTree(p.source, { 'index.php': 'v2\n' });
    const refused = await p.deploy();
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toContain('lib/util.php');
    expect(p.live()).toBe(first);
    fs.writeFileSync(p.file, cfg);
    const res = await p.ok();
    expect(res.output).toContain('lib/util.php');
    const copy = path.join(p.deployPath, 'shared/.rescued', first, 'lib/util.php');
    expect(fs.readFileSync(copy, 'utf8')).toBe('util hotfix\n');
  });

  it('a code file replaced in the live release after the probe read it stops the deploy instead of going live in the new one; the next deploy names it and keeps a copy', async () => {
    const p = project({}, { 'index.php': 'v1\n', 'app.php': 'source\n' });
    await p.ok();
    const first = p.live();
    // A hotfix by hand while the deploy runs, between its probe and its upload: a hook after the
    // changes stage stands in for the person. sed -i writes a new file: the hard link would take it.
    const cfg = fs.readFileSync(p.file, 'utf8');
    fs.writeFileSync(
      p.file,
      `${cfg}hooks:\n  after:\n    changes: ["sed -i s/source/hotfix/ current/app.php"]\n`,
    );
    writeTree(p.source, { 'index.php': 'v2\n' });
    const stopped = await p.deploy();
    expect(stopped.code, stopped.output).toBe(1);
    expect(stopped.output).toContain('as the probe saw them');
    expect(stopped.output).toContain('changed on the server since this deploy began: app.php');
    expect(p.live()).toBe(first);
    expect(fs.readFileSync(p.current('app.php'), 'utf8')).toBe('hotfix\n');
    fs.writeFileSync(p.file, cfg);
    const res = await p.ok();
    expect(res.output).toMatch(/app\.php/);
    expect(fs.readFileSync(p.current('app.php'), 'utf8')).toBe('source\n');
    expect(fs.readFileSync(path.join(p.deployPath, 'shared/.rescued', first, 'app.php'), 'utf8')).toBe(
      'hotfix\n',
    );
  });

  it('rollback refuses a release whose files changed since it was deployed (a write in place reached it through a hard link), unless forced', async () => {
    const p = project({}, { 'index.php': 'v1\n', 'lib/util.php': 'util\n' });
    await p.ok();
    const first = p.live();
    writeTree(p.source, { 'index.php': 'v2\n' });
    await p.ok();
    // Rewritten in place (same inode): with hard-linked releases the older one changes too.
    runAs(DEPLOY_USER, `printf 'patched in place\\n' > ${p.current('lib/util.php')}`);
    const refused = await runCli(['-c', p.file, 'rollback', 'web']);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toContain('lib/util.php');
    expect(refused.output).toContain('--force');
    expect(p.live()).not.toBe(first);
    const forced = await runCli(['-c', p.file, 'rollback', 'web', '--force']);
    expect(forced.code, forced.output).toBe(0);
    expect(p.live()).toBe(first);
  });

  it('shared/ not writable by the deploy user and a new shared dir: the deploy fails before the switch, naming the path', async () => {
    const p = project({}, { 'index.php': 'v1\n' });
    await p.ok();
    const first = p.live();
    const shared = path.join(p.deployPath, 'shared');
    execFileSync('chown', ['root:root', shared]);
    fs.chmodSync(shared, 0o755);
    const cfg = fs.readFileSync(p.file, 'utf8');
    fs.writeFileSync(p.file, `${cfg}shared_dirs: [uploads]\n`);
    writeTree(p.source, { 'index.php': 'v2\n' });
    const res = await p.deploy();
    expect(res.code, res.output).toBe(1);
    expect(res.output).toContain(path.join(shared, 'uploads'));
    expect(p.live()).toBe(first);
    expect(releasesOf(p.deployPath)).toEqual([first]);
  });

  it('files in the live release owned by the app are sent again instead of hard-linked, and the notice says how many', async () => {
    const p = project({}, { 'index.php': 'v1\n', 'cache/.gitignore': '*\n', 'cache/keep.txt': 'k\n' });
    await p.ok();
    // An administrator "fixing permissions" with sudo: size and mtime stay, the owner changes.
    execFileSync('chown', ['-R', `${APP_USER}:`, path.join(fs.realpathSync(p.current()), 'cache')]);
    expect(
      tryAs(DEPLOY_USER, `ln ${p.current('cache/.gitignore')} /tmp/shipshape-hardlink-probe.$$`).status,
    ).not.toBe(0);
    writeTree(p.source, { 'index.php': 'v2\n' });
    const res = await p.ok();
    expect(res.output).toMatch(/; 2 unchanged file\(s\) owned by another user sent again/);
    expect(fs.readFileSync(p.current('cache/.gitignore'), 'utf8')).toBe('*\n');
    expect(fs.statSync(p.current('cache/.gitignore')).uid).toBe(uidOf(DEPLOY_USER));
  });

  it('an artifact pulled from an S3 store by the deploy user: its files, modes and owner; app-owned files fetched again', async () => {
    const s3 = await startS3Server();
    try {
      const p = project(
        { artifacts: { store: `s3://${s3.bucket}/real`, endpoint: s3.endpoint }, fetch: 'pull' },
        { 'index.php': 'v1\n', 'bin/tool': '#!/bin/sh\n', 'cache/keep.txt': 'k\n' },
      );
      fs.chmodSync(path.join(p.source, 'bin/tool'), 0o750);
      const cli = async (args: string[]) => {
        const r = await runCli(['-c', p.file, ...args], { env: s3.env });
        expect(r.code, r.output).toBe(0);
        return r;
      };
      const deploy = async () => cli(['--artifact', (await cli(['build'])).stdout.trim(), 'web']);
      const first = await deploy();
      expect(first.output).toContain('fetch: pull: the host fetches 3 file(s)');
      expect(fs.statSync(p.current('index.php')).uid).toBe(uidOf(DEPLOY_USER));
      expect(fs.statSync(p.current('bin/tool')).mode & 0o7777).toBe(0o750);
      execFileSync('chown', ['-R', `${APP_USER}:`, path.join(fs.realpathSync(p.current()), 'cache')]);
      writeTree(p.source, { 'index.php': 'v2\n' });
      const second = await deploy();
      // index.php changed; cache/keep.txt is the app's now, so it cannot be hard-linked: fetched again.
      expect(second.output).toContain('fetch: pull: the host fetches 2 file(s)');
      expect(fs.readFileSync(p.current('cache/keep.txt'), 'utf8')).toBe('k\n');
      expect(fs.statSync(p.current('cache/keep.txt')).uid).toBe(uidOf(DEPLOY_USER));
      expect(fs.readFileSync(p.current('index.php'), 'utf8')).toBe('v2\n');
    } finally {
      await s3.stop();
    }
  });
});

/** Resolves once `ready()` holds, looking every 50 ms: a process of the app reaching its step. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((r) => setTimeout(r, 50));
}

/**
 * A process of the app started in `dir` and never restarted: its working directory stays that
 * directory wherever its release moves (.deploy/ itself is closed to the app user). It runs each of
 * `steps` as the app user when the test says so: `step(i)` resolves once step i has run.
 */
async function worker(dir: string, steps: string[]) {
  const flags = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-worker-'));
  fs.chmodSync(flags, 0o777);
  const flag = (name: string) => path.join(flags, name);
  const script = [
    'cd "$1"',
    'touch "$2/ready"',
    ...steps.flatMap((s, i) => [`while [ ! -e "$2/go${i}" ]; do sleep 0.1; done`, s, `touch "$2/done${i}"`]),
  ].join(' && ');
  const proc = startAs(APP_USER, script, [fs.realpathSync(dir), flags]);
  await until(() => fs.existsSync(flag('ready')));
  return {
    /** The same as step(i), as a shell command for a remote step of the deploy. */
    stepCommand: (i: number) =>
      `touch ${quote(flag(`go${i}`))} && while [ ! -e ${quote(flag(`done${i}`))} ]; do sleep 0.1; done`,
    step: async (i: number) => {
      fs.writeFileSync(flag(`go${i}`), '');
      await until(() => fs.existsSync(flag(`done${i}`)));
    },
    stop: () => {
      proc.kill();
      fs.rmSync(flags, { recursive: true, force: true });
    },
  };
}

/** Every regular file's content under root, outside the trash (bytes there are being deleted). */

function contentsUnder(root: string): Set<string> {
  const out = new Set<string>();
  const walk = (dir: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, d.name);
      if (abs === path.join(root, '.deploy/trash')) continue;
      if (d.isDirectory()) walk(abs);
      else if (d.isFile()) out.add(fs.readFileSync(abs, 'utf8'));
    }
  };
  walk(root);
  return out;
}

function findFile(root: string, name: string): string | undefined {
  if (!fs.existsSync(root)) return undefined;
  for (const d of fs.readdirSync(root, { withFileTypes: true })) {
    const abs = path.join(root, d.name);
    if (d.isDirectory()) {
      const hit = findFile(abs, name);
      if (hit) return hit;
    } else if (d.name === name) return abs;
  }
  return undefined;
}
