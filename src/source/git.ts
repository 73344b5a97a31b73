import { execFile } from 'node:child_process';
import path from 'node:path';

/**
 * git as a child process: its own answers about ignore rules, the index and commits, read
 * exactly as git reads them (every .gitignore, .git/info/exclude, core.excludesFile). Never a
 * pager, a credential prompt, or the optional index lock `git status` would otherwise take
 * while a developer's own git command runs.
 */
export const GIT_ENV = { GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat' } as const;

/**
 * Variables that point git at a repository other than the one it finds from its directory (the
 * list `git rev-parse --local-env-vars` prints, but the `-c` settings). A git hook, or an alias
 * run from one, sets GIT_DIR (often relative) or GIT_INDEX_FILE; inherited, they made git answer
 * for the wrong tree: a relative GIT_DIR said the source was in no work tree, so what .gitignore
 * leaves out was uploaded, and an absolute one listed every file as deleted. `source` names the
 * directory; its repository is the one git finds from there, as git does for a submodule. Local
 * steps get the same environment (hooks-local.ts).
 */
const REPOSITORY_VARIABLES = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_IMPLICIT_WORK_TREE',
  'GIT_COMMON_DIR',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_GRAFT_FILE',
  'GIT_SHALLOW_FILE',
  'GIT_NO_REPLACE_OBJECTS',
  'GIT_REPLACE_REF_BASE',
  'GIT_PREFIX',
  'GIT_INTERNAL_SUPER_PREFIX',
];

/**
 * This process's environment without the variables above: also for local steps, whose git must
 * see the directory they run in (a --revision build's checkout), not the developer's repository.
 */
export function withoutRepositoryVariables(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const name of REPOSITORY_VARIABLES) delete out[name];
  return out;
}

/** The environment of a git child: this process's, without the variables above, plus `extra`. */
export function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...withoutRepositoryVariables(), ...extra, ...GIT_ENV };
}

/** Listings of a 40,000-file tree are a few megabytes; this leaves room for far larger ones. */
const MAX_OUTPUT = 1 << 30;

export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly missing = false,
  ) {
    super(`git ${args.join(' ')}: ${stderr.trim() || 'failed'}`);
  }
}

/** Runs git in `cwd`; stdout as bytes (paths are bytes to git), stderr in the error. */
export function git(
  cwd: string,
  args: readonly string[],
  /** Variables added to gitEnv()'s: a temporary index of shipshape's own, say. */
  extra: NodeJS.ProcessEnv = {},
  /** Written to git's stdin (`--stdin` commands); without it stdin is closed at once. */
  input?: Buffer,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      { cwd, env: gitEnv(extra), encoding: 'buffer', maxBuffer: MAX_OUTPUT },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        reject(new GitError(args, stderr?.toString('utf8') ?? '', missing));
      },
    );
    // An EPIPE from git ending before reading it all is reported by the exit status above.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

/** NUL-separated fields of `-z` output, as bytes. */
export function nulSlices(out: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  for (let start = 0; start < out.length;) {
    let end = out.indexOf(0, start);
    if (end < 0) end = out.length;
    fields.push(out.subarray(start, end));
    start = end + 1;
  }
  return fields;
}

/** NUL-separated fields of `-z` output, as UTF-8 strings (the scan reads names as UTF-8 too). */
export const nulFields = (out: Buffer): string[] => nulSlices(out).map((b) => b.toString('utf8'));

/** Where a directory sits in git, or undefined when it is not in a work tree (or git is missing). */
export interface GitLocation {
  /** The work tree's top directory. */
  top: string;
  /** The directory relative to `top`, with a trailing `/`; empty at the top. */
  prefix: string;
  /** The repository's shared git directory (the same for every worktree of it). */
  commonDir: string;
}

export async function locateGit(dir: string): Promise<GitLocation | undefined> {
  try {
    const out = await git(dir, [
      'rev-parse',
      '--is-inside-work-tree',
      '--show-toplevel',
      '--show-prefix',
      '--git-common-dir',
    ]);
    const [inside, top, prefix, commonDir] = out.toString('utf8').split('\n');
    if (inside !== 'true' || !top || !commonDir) return undefined;
    // Relative to `dir` when git prints it so (git before 2.31 has no --path-format).
    return { top, prefix: prefix ?? '', commonDir: path.resolve(dir, commonDir) };
  } catch {
    return undefined;
  }
}
