import { selectHosts } from '../engine/selector.js';
import { runTask } from '../engine/task.js';
import { confirmRun, question, type Ask } from './confirm-run.js';
import { hostsJson, loadForOutput, printErrors, type LifecycleOptions } from './lifecycle-options.js';

export interface TaskCommandOptions extends LifecycleOptions {
  name: string;
  ask?: Ask;
}

/** `deploy task <name> [selector]`: a task of deploy.yml on the selected hosts, its output as it comes. */
export async function taskCommand(o: TaskCommandOptions): Promise<number> {
  const { loaded, out } = loadForOutput(o);
  const { config } = loaded;
  const selected = selectHosts(config, o.selector);
  if (config.tasks[o.name])
    await confirmRun(
      config,
      selected,
      question(`Run task ${o.name} of ${config.application} on`, selected),
      o,
      out.sanitise,
    );
  const result = await runTask({
    loaded,
    name: o.name,
    selector: o.selector,
    reporter: out.reporter(o),
    signal: o.signal,
    parallel: o.parallel,
  });
  if (o.json) out.json({ task: o.name, exitCode: result.exitCode, hosts: hostsJson(result.outcomes) });
  printErrors(
    out,
    result.error,
    result.outcomes.map((h) => h.error),
  );
  return result.exitCode;
}
