import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { quote } from '../../src/remote/sh.js';
import type { SshdServer } from './sshd.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// By absolute URL, so the CLI can run with any working directory.
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export interface CliResult {
  /** The exit code, or null when a signal ended the process. */
  code: number | null;
  /** The signal that ended the process, if one did. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  output: string;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  onSpawn?: (pid: number) => void;
  /** Sees stdout as it grows (all of it so far), e.g. to interrupt at a marker line. */
  onStdout?: (soFar: string) => void;
  /** Written to the CLI's stdin, which is then closed (otherwise stdin is empty). */
  input?: string;
}

/** `node` arguments that start the CLI from source through the tsx loader, before the CLI's own. */
const CLI_FROM_SOURCE = ['--import', TSX, path.join(ROOT, 'test/support/run-cli.ts')];

/** The command line that runs the CLI from source (for a test that must run it some other way, e.g. on a pty). */
export const cliArgv = (args: readonly string[]): string[] => [process.execPath, ...CLI_FROM_SOURCE, ...args];

/**
 * Runs the CLI on a real terminal (script(1) gives it a pty on stdin, stdout and stderr), as a
 * person at a keyboard sees it: with CI unset it draws listr2's task tree. Output is both streams.
 */
export function runCliOnTerminal(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  /** `input` is typed at the terminal once the CLI asks (when `prompt` appears in its output). */
  o: { cols?: number; cwd?: string; input?: string; prompt?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // script's pty starts with 0 columns; a terminal has a size (listr2 wraps to it).
    const command = `stty cols ${o.cols ?? 120} rows 40 && exec ${cliArgv(args).map(quote).join(' ')}`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: o.cwd ?? ROOT,
      env: { ...process.env, CI: '', GITHUB_ACTIONS: '', GITLAB_CI: '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let typed = o.input === undefined;
    if (typed) child.stdin.end();
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
      if (!typed && output.includes(o.prompt ?? '')) {
        typed = true;
        child.stdin.end(o.input);
      }
    });
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: output, stderr: '', output }));
  });
}

/** Runs the real CLI in a child process, from source, as a user would. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return runNodeCli([...CLI_FROM_SOURCE, ...args], options);
}

/**
 * `node <nodeArgs>` with the environment of a CI log (plain output, no colour), stdin given or
 * empty, and every byte of output collected. runCli and the fault suite's bundled CLI both use it.
 */
export function runNodeCli(nodeArgs: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, CI: 'true', FORCE_COLOR: '0', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.on('error', () => undefined); // the CLI may exit without reading it
    child.stdin.end(options.input ?? '');
    options.onSpawn?.(child.pid!);
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (c) => {
      stdout += c;
      options.onStdout?.(stdout);
    });
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, output: stdout + stderr }));
  });
}

export const tmpDir = (prefix = 'shipshape-'): string => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** Writes files (content string, or { link } for a symlink, or { mode }) under root. */
export function writeTree(
  root: string,
  files: Record<string, string | { content?: string; link?: string; mode?: number }>,
) {
  for (const [rel, spec] of Object.entries(files)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    if (typeof spec === 'string') fs.writeFileSync(abs, spec);
    else if (spec.link !== undefined) fs.symlinkSync(spec.link, abs);
    else {
      fs.writeFileSync(abs, spec.content ?? '');
      if (spec.mode !== undefined) fs.chmodSync(abs, spec.mode);
    }
  }
}

/** A host block for deploy.yml that reaches the test sshd. */
export function sshHost(server: SshdServer, deployPath: string, extra: Record<string, unknown> = {}) {
  return {
    hostname: server.host,
    port: server.port,
    user: server.user,
    identity_file: server.identityFile,
    known_hosts_file: server.knownHostsFile,
    deploy_path: deployPath,
    ...extra,
  };
}

/**
 * A project under `work/<name>`: the app in `app/` (written from `files`), deploy.yml next to it,
 * and one host `web` on `server` whose deploy path is `server/`. `config` adds top-level keys,
 * `host` keys of the host; `shared` is put into the server's shared/ first, as a user would.
 */
export function sshProject(
  server: SshdServer,
  work: string,
  name: string,
  files: Parameters<typeof writeTree>[1],
  options: {
    config?: Record<string, unknown>;
    host?: Record<string, unknown>;
    shared?: Record<string, string>;
  } = {},
): { dir: string; source: string; deployPath: string; file: string } {
  const dir = path.join(work, name);
  const source = path.join(dir, 'app');
  writeTree(source, files);
  const deployPath = path.join(dir, 'server');
  if (options.shared) writeTree(path.join(deployPath, 'shared'), options.shared);
  const file = writeConfig(dir, {
    application: name,
    source: 'app',
    hosts: { web: sshHost(server, deployPath, options.host) },
    ...options.config,
  });
  return { dir, source, deployPath, file };
}

export function writeConfig(dir: string, config: Record<string, unknown>): string {
  const file = path.join(dir, 'deploy.yml');
  fs.writeFileSync(file, stringify(config));
  return file;
}

/** Path, type, mode, link target and content hash of every entry under root (not following links). */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, r);
      const st = fs.lstatSync(abs);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[r] = `link ${fs.readlinkSync(abs)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(r);
      } else out[r] = `file ${mode} ${createHash('sha256').update(fs.readFileSync(abs)).digest('hex')}`;
    }
  };
  walk('');
  return out;
}

export const releasesOf = (deployPath: string): string[] =>
  fs.existsSync(path.join(deployPath, 'releases'))
    ? fs.readdirSync(path.join(deployPath, 'releases')).sort()
    : [];

export const logOf = (deployPath: string): { name: string; status: string }[] => {
  const file = path.join(deployPath, '.deploy/releases.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
};
