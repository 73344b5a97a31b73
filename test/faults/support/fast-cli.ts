import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import type { CliResult } from '../../support/project.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

let bundle: string | undefined;

/**
 * The real CLI from source, bundled once per test file with esbuild (the transpiler tsx uses):
 * a fault suite runs the CLI a few hundred times, and starting it through the tsx loader costs
 * about three times as long on this machine. Packages stay external and resolve from our
 * node_modules; import.meta.url is pinned to src/cli.ts so package.json and recipes/ are found
 * as they are from source.
 */
function cliBundle(): string {
  if (bundle && fs.existsSync(bundle)) return bundle;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-fault-cli-'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const out = path.join(dir, 'cli.mjs');
  buildSync({
    entryPoints: [path.join(ROOT, 'test/support/run-cli.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: out,
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(path.join(ROOT, 'src/cli.ts')).href) },
    logLevel: 'warning',
  });
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return (bundle = out);
}

export interface FastCliOptions {
  env?: NodeJS.ProcessEnv;
  onSpawn?: (pid: number) => void;
  /** Sees stdout as it grows (all of it so far). */
  onStdout?: (soFar: string) => void;
}

/** Same contract as test/support/project.ts#runCli: a child process, CI plain output, stdin empty. */
export function runFastCli(args: string[], options: FastCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBundle(), ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', FORCE_COLOR: '0', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end('');
    options.onSpawn?.(child.pid!);
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (c) => {
      stdout += c;
      options.onStdout?.(stdout);
    });
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? null : code), stdout, stderr, output: stdout + stderr }),
    );
  });
}
