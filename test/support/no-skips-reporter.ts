import type { Reporter, TestModule } from 'vitest/node';

/**
 * In CI nothing may quietly not run (`.ci/run` installs what every test needs): a skipped or todo
 * test fails the run, named here. vitest.config.ts adds this reporter only when CI is set; on a
 * developer's machine a test that lacks a tool is skipped with the reason (requirements.ts).
 */
export default class NoSkipsReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const skipped: string[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        if (test.result().state === 'skipped') skipped.push(`${module.relativeModuleId} > ${test.fullName}`);
      }
    }
    if (skipped.length === 0) return;
    // vitest exits with process.exitCode once it is done; it only ever raises it.
    process.exitCode = 1;
    console.error(
      `\n${skipped.length} test(s) skipped in CI, where every test must run:\n  ${skipped.join('\n  ')}\n`,
    );
  }
}
