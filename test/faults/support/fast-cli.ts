import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { runNodeCli, type CliOptions, type CliResult } from '../../support/project.js';

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

/** The same contract as runCli (test/support/project.ts), with the bundled CLI. */
export function runFastCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return runNodeCli([cliBundle(), ...args], options);
}
