import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { interruptSignal, LEFT_LOCKED } from './commands/interrupt.js';
import { EXIT } from './definitions/exit-codes.js';
import { asInvocation, setInvokedConfigFile } from './definitions/invocation.js';
import { keepYoungGenerationSmall } from './commands/process-memory.js';
import { packageVersion } from './definitions/package-root.js';
import { usageErrorText } from './ui/usage-error.js';

/** `--parallel 0` would wait forever and `--limit many` would select every host: refuse them (exit 2). */
const atLeastOne = (v: string): number => {
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new InvalidArgumentError('expected a whole number of 1 or more.');
  return Number(v);
};

const selectorArg = ['[selector...]', 'host alias, stage, label=value, or all'] as const;

const count = (_v: string, previous: number): number => previous + 1;
const collect = (v: string, all: string[]): string[] => [...all, v];

/**
 * `deploy run web1 uname -a`: everything after the selector is the command, whatever it looks
 * like (commander would take `-a` for an option of ours, and `-c` for --config). A `--` is put
 * after the selector unless the user wrote one; options before `run` and its selector stay ours.
 */
export function separateRunCommand(argv: readonly string[], takesValue: ReadonlySet<string>): string[] {
  const out = [...argv];
  let i = 2;
  const nextOperand = (): number => {
    for (; i < out.length; i++) {
      const t = out[i]!;
      if (t === '--') return -1;
      if (!t.startsWith('-') || t === '-') return i;
      if (takesValue.has(t)) i++;
    }
    return -1;
  };
  const at = nextOperand();
  if (at < 0 || out[at] !== 'run') return out;
  i = at + 1;
  const selector = nextOperand();
  if (selector >= 0 && out[selector + 1] !== '--' && selector + 1 < out.length)
    out.splice(selector + 1, 0, '--');
  return out;
}

/**
 * argv in, exit code out: commander parses, the commands in src/commands do the work. Each
 * command's module is imported inside its action, so `--help`, `releases` or `rollback` do not
 * load (and pay start-up time and memory for) what only another command uses.
 */
export function main(argv: string[]): Promise<number> {
  // Its own invocation: the -c it is given names the commands its hints print, and no other call's.
  return asInvocation(() => runMain(argv));
}

async function runMain(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command()
    .name('deploy')
    .description('Atomic, zero-data-loss deployments over SSH.')
    .version(packageVersion(), '-V, --version')
    // Subcommands copy these settings when they are created: set before any is.
    .configureHelp({ showGlobalOptions: true })
    .helpCommand(true)
    .option('-c, --config <file>', 'configuration file', 'deploy.yml')
    .option(
      '-o, --option <key=value>',
      'override a deploy.yml value (dotted key, e.g. keep_releases=3 or hosts.web1.port=2222); repeatable',
      collect,
      [] as string[],
    )
    .option('-v, --verbose', 'more output: -v each stage’s commands, -vv every remote script', count, 0)
    .option('-q, --quiet', 'errors and the summary only')
    .option('--log <file>', 'append the full transcript (masked, timestamped, as -vv) to a file')
    .option('--json', 'print one JSON result object on stdout at the end')
    .option(
      '-y, --yes',
      'answer yes to the confirmation of a `confirm: true` host (needed without a terminal)',
    )
    .option('--parallel <n>', 'hosts at once', atLeastOne)
    .option(
      '--dry-run',
      'read the hosts and print the plan (what would be sent, linked and run); change nothing',
    )
    .option('--limit <n>', 'only the first n selected hosts (a trial run)', atLeastOne)
    .option('--no-atomic', 'let each host switch as soon as it is ready instead of all together')
    .option(
      '--revision <ref>',
      'deploy this commit (tag, branch or sha) from the local repository, not the working tree',
    )
    .option('--require-clean', 'refuse to deploy uncommitted changes (exit 2, before any host is contacted)')
    .option(
      '--skip-unchanged',
      'make no release where the hosts already run this source and deploy.yml (exit 0)',
    )
    .option(
      '--no-skip-unchanged',
      'make a release even when nothing changed (overrides skip_unchanged: true)',
    )
    .option(
      '--artifact <id>',
      'deploy this artifact from the store (`deploy build` prints its id): no scan, no build',
    )
    .argument(...selectorArg)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(usageErrorText(s)) })
    // Before any command runs: every `deploy …` a hint or warning prints carries this `-c` and `-o`.
    .hook('preAction', (root: Command) => {
      const { config, option } = root.opts<{ config: string; option?: string[] }>();
      setInvokedConfigFile(config, option);
    })
    .action(async (selector: string[], opts) => {
      // Before the deploy's modules load (see process-memory.ts); no other command sets it.
      keepYoungGenerationSmall();
      const { deployCommand } = await import('./commands/deploy-command.js');
      code = await deployCommand({ ...opts, selector, signal: interruptSignal(LEFT_LOCKED) });
    });

  program
    .command('hosts')
    .description('list the hosts a selector picks (every host without one), without connecting')
    .argument(...selectorArg)
    .action(async (selector: string[], _o, cmd: Command) => {
      const { hostsCommand } = await import('./commands/hosts.js');
      code = await hostsCommand({ ...cmd.optsWithGlobals(), selector });
    });

  // duplicates: one commander registration per subcommand, alike in shape; each imports its own module lazily.
  program
    .command('config')
    .description('print the resolved configuration per host (secrets masked), without connecting')
    .argument(...selectorArg)
    .action(async (selector: string[], _o, cmd: Command) => {
      const { configCommand } = await import('./commands/config.js');
      code = await configCommand({ ...cmd.optsWithGlobals(), selector });
    });

  program
    .command('rollback')
    .description('switch current back to the previous successful release')
    .argument(...selectorArg)
    .option('--to <release>', 'the release to switch to')
    .option(
      '--force',
      'switch even to a release whose files changed since it was deployed, or (with --to) a failed or rolled-back one',
    )
    .action(async (selector: string[], _o, cmd: Command) => {
      const { rollbackCommand } = await import('./commands/rollback.js');
      code = await rollbackCommand({
        ...cmd.optsWithGlobals(),
        selector,
        signal: interruptSignal(LEFT_LOCKED),
      });
    });
  program
    .command('releases')
    .description('list the releases of each host (read-only)')
    .argument(...selectorArg)
    .action(async (selector: string[], _o, cmd: Command) => {
      const { releasesCommand } = await import('./commands/releases.js');
      code = await releasesCommand({ ...cmd.optsWithGlobals(), selector, signal: interruptSignal() });
    });
  program
    .command('unlock')
    .description('remove the deploy lock and print whose it was')
    .argument(...selectorArg)
    .action(async (selector: string[], _o, cmd: Command) => {
      const { unlockCommand } = await import('./commands/locks.js');
      code = await unlockCommand({ ...cmd.optsWithGlobals(), selector, signal: interruptSignal() });
    });
  program
    .command('lock')
    .description('deploy lock commands')
    .command('status')
    .description('show who holds the deploy lock (read-only)')
    .argument(...selectorArg)
    .action(async (selector: string[], _o, cmd: Command) => {
      const { lockStatusCommand } = await import('./commands/locks.js');
      code = await lockStatusCommand({ ...cmd.optsWithGlobals(), selector, signal: interruptSignal() });
    });
  program
    .command('ssh')
    .description('open a shell in current on one host')
    .argument('<host>', 'host alias')
    .action(async (host: string, _o, cmd: Command) => {
      const { sshCommand } = await import('./commands/ssh.js');
      code = await sshCommand({ ...cmd.optsWithGlobals(), host });
    });
  program
    .command('run')
    .description('run a command in current on each selected host: deploy run <selector> <command...>')
    .argument('<selector>', selectorArg[1])
    .argument('<command...>', 'the command: everything after the selector (or after --)')
    .action(async (selector: string, command: string[], _o, cmd: Command) => {
      const { runCommand } = await import('./commands/run.js');
      code = await runCommand({ ...cmd.optsWithGlobals(), selector, command, signal: interruptSignal() });
    });
  program
    .command('task')
    .description('run a task of deploy.yml in current on each selected host, under the deploy lock')
    .argument('<name>', 'the task, as named under `tasks:`')
    .argument(...selectorArg)
    .action(async (name: string, selector: string[], _o, cmd: Command) => {
      const { taskCommand } = await import('./commands/task.js');
      code = await taskCommand({ ...cmd.optsWithGlobals(), name, selector, signal: interruptSignal() });
    });
  program
    .command('list')
    .description('print what a deploy runs, stage by stage with the hooks around each, and the tasks')
    .action(async (_o, cmd: Command) => {
      const { listCommand } = await import('./commands/list.js');
      code = await listCommand(cmd.optsWithGlobals());
    });

  program
    .command('verify')
    .description('check the shared layout of each host: links, shared dirs, writable dirs (read-only)')
    .argument(...selectorArg)
    .action(async (selector: string[], _o, cmd: Command) => {
      const { verifyCommand } = await import('./commands/verify.js');
      code = await verifyCommand({ ...cmd.optsWithGlobals(), selector, signal: interruptSignal() });
    });
  program
    .command('setup')
    .description('prepare each host before its first deploy: layout, shared skeleton, checks, --put files')
    .argument(...selectorArg)
    .option(
      '--put <LOCAL:SHARED_PATH>',
      'put a local file into shared/ (mode 0600, or 0640 when the app user must read it); repeatable',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--force', 'replace a file that exists in shared/')
    .action(async (selector: string[], _o, cmd: Command) => {
      const { setupCommand } = await import('./commands/setup.js');
      code = await setupCommand({ ...cmd.optsWithGlobals(), selector, signal: interruptSignal() });
    });
  program
    .command('build')
    .description('run the local build once and record the result as an artifact; prints its id')
    .option('--revision <ref>', 'build this commit (tag, branch or sha), in a clean temporary checkout')
    .option('--require-clean', 'refuse to build uncommitted changes (exit 2)')
    .action(async (_o, cmd: Command) => {
      const { buildCommand } = await import('./commands/artifacts.js');
      code = await buildCommand({ ...cmd.optsWithGlobals(), signal: interruptSignal() });
    });
  const artifacts = program.command('artifacts').description('artifact store commands');
  artifacts
    .command('list')
    .description('list the artifacts in the store, newest first (no host is contacted)')
    .action(async (_o, cmd: Command) => {
      const { artifactsListCommand } = await import('./commands/artifacts.js');
      code = await artifactsListCommand(cmd.optsWithGlobals());
    });
  artifacts
    .command('prune')
    .description('remove all but the newest artifacts, never one a release on any host still uses')
    .requiredOption('--keep <n>', 'how many of the newest artifacts to keep', atLeastOne)
    .action(async (_o, cmd: Command) => {
      const { artifactsPruneCommand } = await import('./commands/artifacts.js');
      code = await artifactsPruneCommand({ ...cmd.optsWithGlobals(), signal: interruptSignal() });
    });
  program
    .command('init')
    .description('write a commented deploy.yml for the framework detected in this directory')
    .option('--force', 'overwrite an existing file')
    .action(async (_o, cmd: Command) => {
      const { initCommand } = await import('./commands/init.js');
      code = await initCommand(cmd.optsWithGlobals());
    });

  const takesValue = new Set(
    program.options
      .filter((o) => o.required || o.optional)
      .flatMap((o) => [o.short, o.long].filter((f): f is string => !!f)),
  );
  try {
    await program.parseAsync(separateRunCommand(argv, takesValue));
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { reportUncaught } = await import('./commands/uncaught-error.js');
    return reportUncaught(e, program.opts());
  }
}
