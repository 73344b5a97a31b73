import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { gitIn, isolatedGitEnv } from '../support/git.js';
import { releasesOf, runCli, writeTree } from '../support/project.js';
import {
  APP_GROUP,
  APP_USER,
  DEPLOY_USER,
  describeRealServer,
  realProject,
  realSuite,
  runAs,
  startAs,
  tryAsOutsider,
} from '../support/real-server.js';

/**
 * shared/ on a real server: a non-root deploy user, the app as another user. What the deploy puts
 * into shared/ must be there in full when it goes live, and never over what the app keeps there;
 * what the app needs must stay in its reach when the deploy user's sessions have a strict umask.
 */
describeRealServer('shared/ on a real server: the seed of a shared dir', () => {
  const suite = realSuite();

  /** An app in a git repository: a shared dir is seeded from its tracked files only. */
  function gitProject(config: Record<string, unknown>, files: Record<string, string>) {
    const p = realProject(suite, 'real-shared', config, files, 'shipshape-real-shared-');
    const env = isolatedGitEnv(p.source);
    const g = gitIn(p.source);
    g.init();
    g.commitAll('app');
    const deploy = (args: string[] = []) => runCli(['-c', p.file, ...args, 'web'], { env });
    return { ...p, g, deploy };
  }

  it('a shared dir the app user made, which the deploy user cannot write: the seed fails the deploy before the switch, naming what it could not add; nothing there is overwritten', async () => {
    const p = gitProject({}, { 'index.php': 'v1\n' });
    const first = await p.deploy();
    expect(first.code, first.output).toBe(0);
    const v1 = p.live();
    // The app user's own storage/ in shared/ (an administrator made it for the app, 0755), with
    // the app's data in it.
    const storage = path.join(p.deployPath, 'shared/storage');
    fs.mkdirSync(storage, { mode: 0o755 });
    execFileSync('chown', [`${APP_USER}:${APP_GROUP}`, storage]);
    fs.chmodSync(storage, 0o755);
    runAs(APP_USER, `printf 'live data\\n' > "$1/settings.json"`, [storage]);
    // The next version shares storage/ and tracks its skeleton: one file the app already has,
    // and a directory with a file it does not.
    fs.appendFileSync(p.file, 'shared_dirs: [storage]\n');
    writeTree(p.source, {
      'index.php': 'v2\n',
      'storage/settings.json': 'skeleton\n',
      'storage/logs/.gitkeep': '',
    });
    p.g.commitAll('v2');

    const failed = await p.deploy();
    expect(failed.code, failed.output).toBe(1);
    expect(failed.output).toContain('web: stage `shared` failed (exit 1)');
    expect(failed.output).toMatch(/command: .*shared\/storage/);
    // The stderr tail names what the copy could not add, and why.
    expect(failed.output).toMatch(/stderr: [^]*Permission denied/);
    expect(failed.output).toMatch(/not seeded into \S*shared\/storage: logs\/\.gitkeep/);
    expect(failed.output).not.toContain('shared/storage: seeded');
    expect(p.live()).toBe(v1);
    expect(releasesOf(p.deployPath)).toEqual([v1]);
    expect(fs.readFileSync(path.join(storage, 'settings.json'), 'utf8')).toBe('live data\n');

    // Opened up for the deploy user (the group shares it), the next deploy seeds what was missing
    // and still keeps the app's file.
    fs.chmodSync(storage, 0o775);
    const fixed = await p.deploy();
    expect(fixed.code, fixed.output).toBe(0);
    expect(fixed.output).toContain('shared/storage: seeded');
    expect(p.live()).not.toBe(v1);
    expect(fs.existsSync(path.join(storage, 'logs/.gitkeep'))).toBe(true);
    expect(fs.readFileSync(path.join(storage, 'settings.json'), 'utf8')).toBe('live data\n');
    expect(fs.readlinkSync(path.join(p.deployPath, 'current/storage'))).toBe('../../shared/storage');
  });
});

/**
 * A server whose sessions get umask 027 (pam_umask or login.defs' UMASK, as hardening guides set
 * it): what the deploy makes is closed to other users. The app user reaches it through the group it
 * shares with the deploy user (the profile's, and docs/persistence.md's "Setting up a real server"):
 * 0750 keeps the group's r-x.
 */
describeRealServer('shared/ on a real server: sessions of the deploy user with umask 027', () => {
  const suite = realSuite({ umask: '027' });

  const ENV = 'APP_KEY=base64:cHJvZHVjdGlvbg==\n';

  it.each(['acl', 'chmod'])(
    'after deploy setup and the deploy, the app user reads .env and its code and writes storage, bootstrap/cache and its SQLite database; .env stays 0640, closed to other users (writable_mode %s)',
    async (mode) => {
      const r = realProject(
        suite,
        'real-umask',
        { writable_mode: mode, writable_user: APP_USER },
        {
          artisan: '#!/usr/bin/env php\n',
          'composer.json': '{"require":{"laravel/framework":"^11.0"}}\n',
          'public/index.php': '<?php // front controller\n',
          'app/Models/User.php': '<?php // model\n',
        },
        'shipshape-real-umask-',
      );
      const { file } = r;
      const envFile = path.join(r.root, 'env.production');
      fs.writeFileSync(envFile, ENV);
      const setup = await runCli(['-c', file, 'setup', 'web', '--put', `${envFile}:.env`]);
      expect(setup.code, setup.output).toBe(0);
      const deployed = await runCli(['-c', file, 'web']);
      expect(deployed.code, deployed.output).toBe(0);

      // The umask reached what setup and the deploy made: nothing there is open to other users.
      const modeOf = (rel: string) => fs.statSync(path.join(r.deployPath, rel)).mode & 0o777;
      for (const dir of ['shared', 'releases', 'current']) expect(modeOf(dir), dir).toBe(0o750);
      const sharedEnv = path.join(r.deployPath, 'shared/.env');
      expect(modeOf('shared/.env')).toBe(0o640);

      const current = (rel: string) => path.join(r.deployPath, 'current', rel);
      expect(runAs(APP_USER, 'cat "$1"', [current('.env')])).toBe(ENV);
      expect(runAs(APP_USER, 'cat "$1"', [current('app/Models/User.php')])).toBe('<?php // model\n');
      runAs(APP_USER, 'printf "booted\\n" >> "$1"', [current('storage/logs/laravel.log')]);
      runAs(APP_USER, 'printf "<?php return [];\\n" > "$1"', [current('bootstrap/cache/config.php')]);
      runAs(APP_USER, 'sqlite3 "$1" "create table jobs (id integer); insert into jobs values (1);"', [
        current('database/database.sqlite'),
      ]);
      expect(
        runAs(APP_USER, 'sqlite3 "$1" "select id from jobs"', [current('database/database.sqlite')]),
      ).toBe('1\n');
      expect(fs.readFileSync(path.join(r.deployPath, 'shared/storage/logs/laravel.log'), 'utf8')).toBe(
        'booted\n',
      );

      // Another local user reads neither the secret nor the code.
      for (const p of [current('.env'), sharedEnv, current('app/Models/User.php')]) {
        expect(tryAsOutsider(`cat '${p}'`).status, p).not.toBe(0);
      }
    },
  );
});

/**
 * A user edits deploy.yml: a shared dir is renamed or dropped, or the admin moved one to another
 * disk. What the app keeps in shared/ must stay there, and the deploy must say when the new
 * release no longer reads it.
 */
describeRealServer('shared/ on a real server: deploy.yml changes what is shared', () => {
  const suite = realSuite();

  it('a shared dir dropped from deploy.yml: its files stay in shared/, the deploy says the new release no longer links it, and a rollback reads them again', async () => {
    const p = realProject(
      suite,
      'real-dropped',
      { shared_dirs: ['storage', 'uploads'], writable_dirs: ['uploads'] },
      { 'index.php': 'v1\n', 'storage/.keep': '' },
      'shipshape-real-dropped-',
    );
    const deploy = (args: string[] = []) => runCli(['-c', p.file, ...args, 'web']);
    const first = await deploy();
    expect(first.code, first.output).toBe(0);
    const v1 = p.live();
    runAs(APP_USER, 'printf "photo\\n" > "$1"', [path.join(p.deployPath, 'current/uploads/photo.jpg')]);

    // The user drops uploads from shared_dirs (it stays writable: the app now writes into the release).
    const cfg = fs.readFileSync(p.file, 'utf8');
    const dropped = cfg.replace('shared_dirs:\n  - storage\n  - uploads\n', 'shared_dirs:\n  - storage\n');
    expect(dropped).not.toBe(cfg);
    fs.writeFileSync(p.file, dropped);
    writeTree(p.source, { 'index.php': 'v2\n' });
    const second = await deploy();
    expect(second.code, second.output).toBe(0);
    expect(second.output).toMatch(
      new RegExp(
        `warn: shared/uploads is no longer in shared_dirs or shared_files: the live release ${v1} links it`,
      ),
    );
    expect(second.output).not.toMatch(/shared\/storage is no longer/);
    const photo = path.join(p.deployPath, 'shared/uploads/photo.jpg');
    expect(fs.readFileSync(photo, 'utf8')).toBe('photo\n');

    // The release it left still links it: a rollback serves the photo again.
    const back = await deploy(['rollback']);
    expect(back.code, back.output).toBe(0);
    expect(p.live()).toBe(v1);
    expect(runAs(APP_USER, 'cat "$1"', [path.join(p.deployPath, 'current/uploads/photo.jpg')])).toBe(
      'photo\n',
    );
  });

  it('a shared dir the admin moved to another disk (shared/storage a symlink out of the deploy path) is linked and made writable; the app writes through it; a link inside it that leads elsewhere still fails the deploy', async () => {
    const p = realProject(
      suite,
      'real-disk',
      { shared_dirs: ['storage'], writable_dirs: ['storage', 'storage/logs'] },
      { 'index.php': 'v1\n', 'storage/logs/.keep': '' },
      'shipshape-real-disk-',
    );
    // The admin, as root: the data disk, given to the deploy user, and shared/storage pointing at it.
    const disk = path.join(p.root, 'disk2/storage');
    fs.mkdirSync(disk, { recursive: true });
    execFileSync('chown', ['-R', `${DEPLOY_USER}:${APP_GROUP}`, path.join(p.root, 'disk2')]);
    runAs(DEPLOY_USER, 'mkdir -p "$1/shared" && ln -s "$2" "$1/shared/storage"', [p.deployPath, disk]);
    const deploy = () => runCli(['-c', p.file, 'web']);
    const first = await deploy();
    expect(first.code, first.output).toBe(0);
    runAs(APP_USER, 'printf "booted\\n" >> "$1"', [path.join(p.deployPath, 'current/storage/logs/app.log')]);
    expect(fs.readFileSync(path.join(disk, 'logs/app.log'), 'utf8')).toBe('booted\n');
    expect(fs.lstatSync(path.join(p.deployPath, 'shared/storage')).isSymbolicLink()).toBe(true);

    // A writable dir that leads out of both the deploy path and the admin's disk is still refused.
    runAs(DEPLOY_USER, 'ln -s /etc "$1/elsewhere"', [disk]);
    fs.writeFileSync(
      p.file,
      fs
        .readFileSync(p.file, 'utf8')
        .replace('  - storage/logs\n', '  - storage/logs\n  - storage/elsewhere\n'),
    );
    writeTree(p.source, { 'index.php': 'v2\n' });
    const refused = await deploy();
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toContain('refusing to change /etc: it is outside the deploy path');
  });

  it('a dir newly shared while shared/ already has it (the admin linked it to another disk) and the live release keeps its own with what the app wrote: the deploy stops before the switch, naming them; once moved, it goes live and the app sees them', async () => {
    const p = realProject(
      suite,
      'real-premade',
      { writable_dirs: ['uploads'] },
      { 'index.php': 'v1\n', 'uploads/.keep': '' },
      'shipshape-real-premade-',
    );
    const deploy = () => runCli(['-c', p.file, 'web']);
    const first = await deploy();
    expect(first.code, first.output).toBe(0);
    const v1 = p.live();
    const photo = (at: string) => path.join(p.deployPath, at, 'uploads/photo.jpg');
    runAs(APP_USER, 'printf "photo\\n" > "$1"', [photo('current')]);

    // The admin puts uploads on a data disk for the app, and the user shares it from now on.
    const disk = path.join(p.root, 'disk2/uploads');
    fs.mkdirSync(disk, { recursive: true });
    execFileSync('chown', ['-R', `${DEPLOY_USER}:${APP_GROUP}`, path.join(p.root, 'disk2')]);
    fs.chmodSync(disk, 0o2775);
    runAs(DEPLOY_USER, 'ln -s "$2" "$1/shared/uploads"', [p.deployPath, disk]);
    fs.appendFileSync(p.file, 'shared_dirs: [uploads]\n');
    writeTree(p.source, { 'index.php': 'v2\n' });
    const stopped = await deploy();
    expect(stopped.code, stopped.output).toBe(1);
    expect(stopped.output).toMatch(
      /uploads holds 1 file\(s\) the app wrote that \S*shared\/uploads lacks \(photo\.jpg \)/,
    );
    expect(stopped.output).toContain('hint: `current` was not switched');
    expect(p.live()).toBe(v1);
    expect(runAs(APP_USER, 'cat "$1"', [photo('current')])).toBe('photo\n');

    // Copied as the error says, the deploy goes live and the app reads its photo through the link.
    expect(stopped.output).toContain('Copy them into');
    runAs(APP_USER, 'cp -Rn "$1"/. "$2"/', [path.dirname(photo(`releases/${v1}`)), disk]);
    const done = await deploy();
    expect(done.code, done.output).toBe(0);
    expect(p.live()).not.toBe(v1);
    expect(fs.readlinkSync(path.join(p.deployPath, 'current/uploads'))).toBe('../../shared/uploads');
    expect(runAs(APP_USER, 'cat "$1"', [photo('current')])).toBe('photo\n');
  });
});

describeRealServer('shared/ on a real server: a file newly shared', () => {
  const suite = realSuite();

  it('a file newly shared while shared/ already has one and the live release keeps the one the app wrote: the deploy stops before the switch, naming it; a file the deploy put there does not stop it; once copied, it goes live and the app reads its data', async () => {
    const p = realProject(
      suite,
      'real-premade-file',
      { writable_dirs: ['data'] },
      { 'index.php': 'v1\n', 'data/.keep': '', 'config/settings.ini': 'development\n' },
      'shipshape-real-premade-file-',
    );
    const deploy = () => runCli(['-c', p.file, 'web']);
    const first = await deploy();
    expect(first.code, first.output).toBe(0);
    const v1 = p.live();
    const db = (at: string) => path.join(p.deployPath, at, 'data/app.sqlite');
    runAs(APP_USER, 'printf "orders\\n" > "$1"', [db('current')]);

    // Someone put copies into shared/ by hand (a stale database, production's settings), and
    // deploy.yml shares both from now on.
    const shared = path.join(p.deployPath, 'shared');
    runAs(
      DEPLOY_USER,
      'mkdir -p "$1/data" "$1/config" && printf "stale\\n" > "$1/data/app.sqlite" && chmod 664 "$1/data/app.sqlite" && printf "production\\n" > "$1/config/settings.ini"',
      [shared],
    );
    fs.appendFileSync(
      p.file,
      'shared_files: [{ path: config/settings.ini }, { path: data/app.sqlite, optional: true }]\n',
    );
    writeTree(p.source, { 'index.php': 'v2\n' });
    const stopped = await deploy();
    expect(stopped.code, stopped.output).toBe(1);
    expect(stopped.output).toMatch(/data\/app\.sqlite is not the file its release went live with/);
    expect(stopped.output).not.toMatch(/settings\.ini is not the file/);
    expect(stopped.output).toContain('hint: `current` was not switched');
    expect(p.live()).toBe(v1);
    expect(runAs(APP_USER, 'cat "$1"', [db('current')])).toBe('orders\n');

    // Copied as the error says, the deploy goes live: the app reads its data through the link, and
    // the settings are production's.
    expect(stopped.output).toContain(`cp ${db(`releases/${v1}`)} ${path.join(shared, 'data/app.sqlite')}`);
    runAs(APP_USER, 'cp "$1" "$2"', [db(`releases/${v1}`), path.join(shared, 'data/app.sqlite')]);
    const done = await deploy();
    expect(done.code, done.output).toBe(0);
    expect(p.live()).not.toBe(v1);
    expect(fs.readlinkSync(db('current'))).toBe('../../../shared/data/app.sqlite');
    expect(runAs(APP_USER, 'cat "$1"', [db('current')])).toBe('orders\n');
    expect(fs.readFileSync(path.join(p.deployPath, 'current/config/settings.ini'), 'utf8')).toBe(
      'production\n',
    );
  });
  it('a SQLite database newly shared while the app has it open in WAL mode: a copy of its main file as the stop says lacks the writes still in its -wal, so the deploy stops again, naming it; once checkpointed and copied, the new release reads them all', async () => {
    const p = realProject(
      suite,
      'real-premade-wal',
      { writable_dirs: ['data'] },
      { 'index.php': 'v1\n', 'data/.keep': '' },
      'shipshape-real-premade-wal-',
    );
    const deploy = () => runCli(['-c', p.file, 'web']);
    const first = await deploy();
    expect(first.code, first.output).toBe(0);
    const v1 = p.live();
    const live = path.join(p.deployPath, 'releases', v1, 'data/app.sqlite');
    const inShared = path.join(p.deployPath, 'shared/data/app.sqlite');
    const sql = (at: string, statement: string) => runAs(APP_USER, 'sqlite3 "$1" "$2"', [at, statement]);
    sql(live, "pragma journal_mode=wal; create table orders (v text); insert into orders values ('one');");
    // A worker of the app keeps a connection open, so its writes stay in the -wal until a checkpoint.
    const fifos = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-wal-'));
    fs.chmodSync(fifos, 0o755);
    const fifo = path.join(fifos, 'statements');
    execFileSync('mkfifo', ['-m', '666', fifo]);
    const holder = startAs(APP_USER, 'exec 3<>"$2"; exec sqlite3 "$1" <&3', [live, fifo]);
    try {
      fs.writeFileSync(fifo, "insert into orders values ('two');\n");
      while (!sql(live, 'select group_concat(v) from orders').includes('two'))
        await new Promise((r) => setTimeout(r, 50));
      expect(fs.statSync(`${live}-wal`).size).toBeGreaterThan(0);

      runAs(DEPLOY_USER, 'mkdir -p -m 775 "${1%/*}" && printf "stale\\n" > "$1" && chmod 664 "$1"', [
        inShared,
      ]);
      fs.appendFileSync(p.file, 'shared_files: [{ path: data/app.sqlite, optional: true }]\n');
      writeTree(p.source, { 'index.php': 'v2\n' });
      const stopped = await deploy();
      expect(stopped.code, stopped.output).toBe(1);
      // The copy the stop names: the main file alone.
      runAs(APP_USER, 'cp "$1" "$2"', [live, inShared]);
      const again = await deploy();
      expect(again.code, again.output).toBe(1);
      expect(again.output).toContain(`${live}-wal holds writes of the app`);
      expect(p.live()).toBe(v1);
      expect(sql(live, 'select group_concat(v) from orders')).toBe('one,two\n');

      // Checkpointed (as the stop says) and copied, it goes live with every write.
      sql(live, 'pragma wal_checkpoint(truncate);');
      runAs(APP_USER, 'cp "$1" "$2"', [live, inShared]);
      const done = await deploy();
      expect(done.code, done.output).toBe(0);
      expect(p.live()).not.toBe(v1);
      expect(
        sql(path.join(p.deployPath, 'current/data/app.sqlite'), 'select group_concat(v) from orders'),
      ).toBe('one,two\n');
    } finally {
      holder.kill();
      fs.rmSync(fifos, { recursive: true, force: true });
    }
  });
});

describeRealServer('shared/ on a real server: public files the app writes', () => {
  const suite = realSuite();

  it('a public file the app writes by rename (a temp file moved over its link): the next deploy serves the app’s newest version from shared/ and keeps the one it replaced in .history/', async () => {
    const p = realProject(
      suite,
      'real-public-rename',
      { public_dir: 'public', writable_dirs: ['public'] },
      { 'index.php': 'v1\n', 'public/robots.txt': 'deployed\n' },
      'shipshape-real-public-rename-',
    );
    const deploy = async () => {
      const r = await runCli(['-c', p.file, 'web']);
      expect(r.code, r.output).toBe(0);
      return r;
    };
    const sitemap = path.join(p.deployPath, 'current/public/sitemap.xml');
    // As Symfony's dumpFile and Laravel's File::replace write: a temp file renamed into place.
    const generate = (body: string) =>
      runAs(APP_USER, 'printf "%s\\n" "$2" > "$1.tmp" && mv -f "$1.tmp" "$1"', [sitemap, body]);
    await deploy();
    generate('first');
    await deploy();
    const second = p.live();
    expect(fs.lstatSync(sitemap).isSymbolicLink()).toBe(true);
    generate('second');
    expect(fs.lstatSync(sitemap).isSymbolicLink()).toBe(false);

    writeTree(p.source, { 'index.php': 'v2\n' });
    const third = await deploy();
    expect(third.output).toContain('the running app replaced its link to sitemap.xml with a newer file');
    expect(fs.lstatSync(sitemap).isSymbolicLink()).toBe(true);
    expect(runAs(APP_USER, 'cat "$1"', [sitemap])).toBe('second\n');
    const kept = path.join(p.deployPath, 'shared/.history', second, 'public/sitemap.xml');
    expect(fs.readFileSync(kept, 'utf8')).toBe('first\n');
    expect(fs.existsSync(path.join(p.deployPath, 'shared/.rescued'))).toBe(false);
    // The app goes on writing it the same way.
    generate('third');
    expect(runAs(APP_USER, 'cat "$1"', [sitemap])).toBe('third\n');
  });
});
