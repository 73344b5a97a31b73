import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { restoreV8Defaults } from '../commands/process-memory.js';
import { cacheEntry } from '../definitions/cache-dir.js';

type Cli = { main(argv: string[]): Promise<number> };

/** Caches kept: a few installs or versions of shipshape on one machine, each with its own. */
const KEPT = 4;

/**
 * Runs the CLI bundle (dist/bin/cli.cjs, a CommonJS script) compiled with V8's code cache: V8
 * then neither parses the bundle nor compiles, on first call, the functions a run calls, which
 * a deploy otherwise spends 40–60 ms of its start on (BENCHMARKS.md: "CLI start"). Node 20 has
 * no such cache for ES modules (module.enableCompileCache came with Node 22), so the bin compiles
 * the script itself, as vm.Script and Node's own CommonJS loader do.
 *
 * The cache is made when a run ends without one V8 took, and kept in the cache directory per
 * bundle (path, size, mtime) and Node (version, platform): V8 checks its own version, flags and
 * the source's length, not the source itself. Only a file the user owns, in a directory the user
 * owns, that no one else may write, is read: bytecode from it runs as the deploying user. A
 * missing, foreign or refused cache only costs the compile.
 */
export async function runBundle(bundle: string, argv: string[], env = process.env): Promise<number> {
  const source = fs.readFileSync(bundle, 'utf8');
  const st = fs.statSync(bundle);
  const key = JSON.stringify([bundle, st.size, st.mtimeMs, process.version, process.platform, process.arch]);
  const file = `${cacheEntry('code', key, env)}.bin`;
  const cachedData = readOwn(file);
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });
  const cli = { exports: {} as Cli };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper(cli.exports, createRequire(bundle), cli, bundle, path.dirname(bundle));
  const code = await cli.exports.main(argv);
  if (!cachedData || script.cachedDataRejected) save(script, file);
  return code;
}

/** Nobody but the user may have put it there: owned by the user and writable by no one else. */
function ownedAlone(p: string): boolean {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  const uid = process.getuid?.();
  return !!st && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

function readOwn(file: string): Buffer | undefined {
  try {
    if (!ownedAlone(path.dirname(file)) || !ownedAlone(file)) return undefined;
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Written aside and renamed; a failure (a read-only home) is no loss. */
function save(script: vm.Script, file: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    // The flags back as they were when the bundle was compiled, or V8 would refuse the cache.
    restoreV8Defaults();
    const dir = path.dirname(file);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(tmp, file);
    const others = fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.bin'))
      .map((n) => ({ n, t: fs.statSync(path.join(dir, n)).mtimeMs }))
      .sort((a, b) => b.t - a.t)
      .slice(KEPT);
    for (const { n } of others) fs.rmSync(path.join(dir, n), { force: true });
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}
