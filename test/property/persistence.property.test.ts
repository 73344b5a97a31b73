import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { deploy } from '../../src/engine/deploy.js';
import { MemoryReporter } from '../../src/engine/reporter.js';
import { rollback } from '../../src/engine/rollback.js';
import { sshHost, tmpDir, writeTree } from '../support/project.js';
import {
  APP_GROUP,
  APP_USER,
  DEPLOY_USER,
  describeRealServer,
  realWritable,
  runAs,
  startRealSshd,
  writeAs,
} from '../support/real-server.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

/**
 * Random histories of deploys, user writes, runtime writes, failed deploys, rollbacks and prunes
 * (keep_releases: 2). After every step: every byte a user or the app ever wrote is still on the
 * host (in shared/, in a release, or rescued); `current` is a complete, successful release; and
 * its build output is its own.
 */

const ENTRY_NAMES = ['uploads', 'images', 'docs', 'a.txt', 'media', 'css', 'js', 'fonts', 'robots.txt'];

type PublicEntry = { name: string; dir: boolean; content: string };
type Action =
  | { kind: 'deploy'; entries: PublicEntry[] }
  | { kind: 'fail-deploy' }
  | { kind: 'rollback' }
  | { kind: 'user-write'; where: 'uploads' | 'storage' | 'entry'; entry: number }
  | { kind: 'runtime-write' }
  | { kind: 'app-creates-public' };

const entryArb = fc.record({
  name: fc.constantFrom(...ENTRY_NAMES),
  dir: fc.boolean(),
  content: fc.string({ maxLength: 6 }),
});
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('deploy' as const),
      entries: fc.array(entryArb, { maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'fail-deploy' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'rollback' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('user-write' as const),
      where: fc.constantFrom('uploads' as const, 'storage' as const, 'entry' as const),
      entry: fc.nat(8),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'runtime-write' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'app-creates-public' as const }) },
);

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Bytes in the trash are as good as deleted (a background process is removing them), so they do not count. */
function allHashes(root: string): Set<string> {
  const out = new Set<string>();
  const trash = path.join(root, '.deploy', 'trash');
  const walk = (dir: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, d.name);
      if (abs === trash) continue;
      if (d.isDirectory()) walk(abs);
      else if (d.isFile()) out.add(sha(fs.readFileSync(abs)));
    }
  };
  walk(root);
  return out;
}

interface Target {
  host: Record<string, unknown>;
  /** More deploy.yml keys (the real-server profile's writable mode). */
  config?: Record<string, unknown>;
}

/**
 * Where the history runs: as root with the test writing files itself, or the way production
 * runs (test/support/real-server.ts): the deploy user deploys and the app user writes, so a write
 * the app may not make simply does not happen, as on a real server.
 */
interface Profile {
  /** A fresh deploy path under root, ready for the first deploy, with shared/.env in place. */
  prepare(root: string): string;
  /** Writes bytes at p as the app would; false when it may not (the write did not happen). */
  write(p: string, bytes: Buffer): boolean;
}

const asRoot: Profile = {
  prepare: (root) => {
    const deployPath = path.join(root, 'server');
    writeTree(path.join(deployPath, 'shared'), { '.env': 'APP_KEY=x\n' });
    return deployPath;
  },
  write: (p, bytes) => {
    try {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, bytes, { flag: 'wx' });
      return true;
    } catch {
      return false; // the path is taken by a file of the app (e.g. `uploads` deployed as a file)
    }
  },
};

const onRealServer: Profile = {
  prepare: (root) => {
    const deployPath = path.join(root, 'server');
    fs.chmodSync(root, 0o755);
    fs.mkdirSync(deployPath);
    execFileSync('chown', [`${DEPLOY_USER}:${APP_GROUP}`, deployPath]);
    runAs(DEPLOY_USER, 'mkdir -p "$1/shared" && printf "APP_KEY=x\\n" > "$1/shared/.env"', [deployPath]);
    return deployPath;
  },
  write: (p, bytes) => writeAs(APP_USER, p, bytes),
};

async function runHistory(
  actions: Action[],
  target: (deployPath: string) => Target,
  profile: Profile = asRoot,
  /** Counts, by kind of action, the writes that really happened (for the caller to check). */
  writes: Map<string, number> = new Map(),
): Promise<void> {
  // tmpfs when there is one: hundreds of small trees are created and removed.
  const root = fs.existsSync('/dev/shm')
    ? fs.mkdtempSync('/dev/shm/shipshape-prop-')
    : tmpDir('shipshape-prop-');
  try {
    const source = path.join(root, 'app');
    const deployPath = profile.prepare(root);
    const file = path.join(root, 'deploy.yml');
    const { host, config = {} } = target(deployPath);
    const loaded = parseConfig(
      stringify({
        application: 'prop',
        source: 'app',
        recipe: 'laravel',
        keep_releases: 2,
        hosts: { web: host },
        ...config,
      }),
      file,
    );
    let clock = Date.UTC(2030, 0, 1);
    const now = () => new Date((clock += 1000));
    const versionOf = new Map<string, string>();
    const written: string[] = [];
    let counter = 0;
    const cur = (p = '') => path.join(deployPath, 'current', p);
    const live = () => (fs.existsSync(cur()) ? fs.readlinkSync(cur()).replace(/^releases\//, '') : undefined);
    let kind = '';
    const write = (p: string) => {
      const bytes = Buffer.concat([Buffer.from(`w${counter++}:`), randomBytes(16)]);
      if (!profile.write(p, bytes)) return;
      written.push(sha(bytes));
      writes.set(kind, (writes.get(kind) ?? 0) + 1);
    };

    const writeSource = (entries: PublicEntry[], version: string) => {
      fs.rmSync(source, { recursive: true, force: true });
      const tree: Record<string, string> = {
        artisan: '#!/usr/bin/env php\n',
        'app/version.txt': version,
        'public/index.php': `<?php // ${version}\n`,
        'public/build/app.js': version,
        'storage/logs/.gitkeep': '',
      };
      for (const e of entries) {
        if (
          tree[`public/${e.name}`] !== undefined ||
          Object.keys(tree).some((k) => k.startsWith(`public/${e.name}/`))
        )
          continue;
        if (e.dir) tree[`public/${e.name}/f.txt`] = e.content;
        else tree[`public/${e.name}`] = e.content;
      }
      writeTree(source, tree);
    };

    let lastEntries: PublicEntry[] = [];
    for (const [i, action] of actions.entries()) {
      const before = live();
      kind = action.kind === 'user-write' ? `user-write:${action.where}` : action.kind;
      if (action.kind === 'deploy' || action.kind === 'fail-deploy') {
        const version = `v${i}`;
        const entries = action.kind === 'deploy' ? action.entries : lastEntries;
        writeSource(entries, version);
        const env = path.join(deployPath, 'shared/.env');
        // Deploys are made from the test process as a library call: its cwd is not the source.
        if (action.kind === 'fail-deploy') fs.renameSync(env, `${env}.away`);
        const r = await deploy({ loaded, selector: 'web', reporter: new MemoryReporter(), now });
        if (action.kind === 'fail-deploy') {
          fs.renameSync(`${env}.away`, env);
          expect(r.exitCode).toBe(1);
          expect(live()).toBe(before);
        } else {
          expect(r.exitCode, JSON.stringify(r.error?.message)).toBe(0);
          versionOf.set(r.release!, version);
          lastEntries = entries;
        }
      } else if (action.kind === 'rollback') {
        if (!before) continue;
        const r = await rollback({ loaded, selector: 'web', reporter: new MemoryReporter() });
        // With no earlier successful release to go back to, rollback refuses and changes nothing.
        if (r.exitCode !== 0) expect(live()).toBe(before);
      } else if (!before) {
        continue;
      } else if (action.kind === 'user-write') {
        const entryNames = ['uploads', 'images', 'docs', 'media'];
        if (action.where === 'uploads') write(cur(`public/uploads/u${counter}.bin`));
        else if (action.where === 'storage') write(cur(`storage/app/public/s${counter}.bin`));
        else {
          // Through whatever shared entry the live release links, as a user editing on the server.
          const name = entryNames[action.entry % entryNames.length]!;
          const at = cur(`public/${name}`);
          if (fs.existsSync(at) && fs.lstatSync(at).isSymbolicLink() && fs.statSync(at).isDirectory())
            write(path.join(at, `e${counter}.bin`));
        }
      } else if (action.kind === 'runtime-write') {
        write(cur(`app/runtime/r${counter}.log`));
      } else {
        write(cur(`public/generated${counter}/file.pdf`));
      }

      // Invariants, after every step.
      const present = allHashes(deployPath);
      for (const h of written)
        expect(present.has(h), `a written file (sha ${h}) is gone after step ${i}`).toBe(true);
      const now_ = live();
      if (now_) {
        const version = versionOf.get(now_);
        expect(version, `current -> ${now_} is a release we deployed`).toBeDefined();
        expect(fs.readFileSync(cur('app/version.txt'), 'utf8')).toBe(version);
        expect(fs.lstatSync(cur('public/build')).isSymbolicLink()).toBe(false);
        expect(fs.readFileSync(cur('public/build/app.js'), 'utf8')).toBe(version);
        for (const excluded of ['css', 'js', 'fonts', 'robots.txt', 'index.php']) {
          const st = fs.lstatSync(cur(`public/${excluded}`), { throwIfNoEntry: false });
          expect(st?.isSymbolicLink() ?? false, `public/${excluded} is a link`).toBe(false);
        }
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const localTarget = (deployPath: string): Target => ({ host: { local: true, deploy_path: deployPath } });

describe('persistence property: nothing a user or the app wrote is ever lost', () => {
  it('holds for random histories on the local transport', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 4 }), (actions) =>
        runHistory([{ kind: 'deploy', entries: [] }, ...actions], localTarget),
      ),
      { numRuns: Number(process.env.PERSISTENCE_RUNS ?? 200) },
    );
    // A guard against a hang, not a speed limit: 200 histories take about a minute on an idle
    // 2-core machine and several times that while other suites load it (345 s in a full CI run here).
  }, 900_000);

  let stop: (() => Promise<void>) | undefined;
  afterAll(async () => stop?.());

  it('holds for one long history over a real sshd', async () => {
    const server = await startSshd();
    stop = () => server.stop();
    const [actions] = fc.sample(fc.array(actionArb, { minLength: 12, maxLength: 12 }), {
      seed: 42,
      numRuns: 1,
    });
    const history: Action[] = [
      { kind: 'deploy', entries: [{ name: 'uploads', dir: true, content: 'x' }] },
      { kind: 'user-write', where: 'uploads', entry: 0 },
      { kind: 'runtime-write' },
      ...actions!,
      { kind: 'deploy', entries: [] },
      { kind: 'deploy', entries: [] },
      { kind: 'deploy', entries: [] },
    ];
    await runHistory(history, (deployPath) => ({ host: sshHost(server, deployPath) }));
  }, 600_000);
});

describeRealServer(
  'persistence property on a real server: deploy user, app user, protected hard links',
  () => {
    let server: SshdServer | undefined;
    beforeAll(async () => {
      server = await startRealSshd();
    });
    afterAll(async () => server?.stop());

    // The app may write where production lets it: storage (shared), and public/ and app/runtime,
    // made writable for it; the writable mode is acl, for the app user.
    const realTarget = (deployPath: string): Target => ({
      host: sshHost(server!, deployPath),
      config: { ...realWritable, writable_dirs: ['public', 'public/uploads', 'app/runtime'] },
    });

    // Writes the app user may not make do not happen; these prove the ones that matter did.
    const MUST_WRITE = ['user-write:uploads', 'user-write:storage', 'runtime-write', 'app-creates-public'];

    it('holds for random histories over sshd, with the app user writing between steps', async () => {
      const writes = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(fc.array(actionArb, { minLength: 3, maxLength: 6 }), (actions) =>
          runHistory([{ kind: 'deploy', entries: [] }, ...actions], realTarget, onRealServer, writes),
        ),
        { numRuns: Number(process.env.PERSISTENCE_REAL_RUNS ?? 8), seed: 7 },
      );
      for (const k of MUST_WRITE) expect(writes.get(k) ?? 0, `writes of ${k}`).toBeGreaterThan(0);
    }, 600_000);

    it('holds for one long history over sshd', async () => {
      const writes = new Map<string, number>();
      const [actions] = fc.sample(fc.array(actionArb, { minLength: 14, maxLength: 14 }), {
        seed: 43,
        numRuns: 1,
      });
      await runHistory(
        [
          { kind: 'deploy', entries: [{ name: 'uploads', dir: true, content: 'x' }] },
          { kind: 'user-write', where: 'uploads', entry: 0 },
          { kind: 'runtime-write' },
          { kind: 'app-creates-public' },
          ...actions!,
          { kind: 'user-write', where: 'storage', entry: 0 },
          { kind: 'deploy', entries: [] },
          { kind: 'deploy', entries: [] },
          { kind: 'deploy', entries: [] },
        ],
        realTarget,
        onRealServer,
        writes,
      );
      for (const k of MUST_WRITE) expect(writes.get(k) ?? 0, `writes of ${k}`).toBeGreaterThan(0);
    }, 600_000);
  },
);
