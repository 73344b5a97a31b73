import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { deliverScript, endMark, scriptReader } from '../../../src/remote/script-stdin.js';
import { sh } from '../../../src/remote/sh.js';

/** What `/bin/sh -c <bootstrap>` does with `input` on its stdin. */
const run = (bootstrap: string, input: Buffer | string) => {
  const r = spawnSync('/bin/sh', ['-c', bootstrap], { input });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};

describe('a script on stdin', () => {
  it('runs, and leaves what follows it on stdin for the script (the upload archive)', () => {
    const { bootstrap, head } = deliverScript(sh`printf 'ran\n'; cat`);
    expect(bootstrap.text).not.toContain('ran');
    expect(run(bootstrap.text, Buffer.concat([head, Buffer.from('archive bytes')]))).toEqual({
      code: 0,
      stdout: 'ran\narchive bytes',
      stderr: '',
    });
  });

  it('can be waited for by a reader started before the script existed, which knows only its end mark', () => {
    const end = endMark();
    const reader = scriptReader(end).text;
    expect(run(reader, deliverScript(sh`echo late`, end).head).stdout).toBe('late\n');
    // A script made for another reader lacks this one's end mark: refused, not run.
    expect(run(reader, deliverScript(sh`echo other`).head)).toMatchObject({ code: 97, stdout: '' });
  });

  it('is refused, never half run, when it arrives short, without its length, or not at all', () => {
    const { bootstrap, head } = deliverScript(sh`echo first; echo second`);
    const cut = run(bootstrap.text, head.subarray(0, head.length - 5));
    expect(cut).toMatchObject({ code: 97, stdout: '' });
    expect(cut.stderr).toContain('the script arrived incomplete');
    expect(run(bootstrap.text, head.subarray(head.indexOf('\n') + 1))).toMatchObject({
      code: 97,
      stdout: '',
    });
    // An exec channel opened ahead and never used: its stdin ends with nothing on it.
    expect(run(bootstrap.text, '')).toMatchObject({ code: 97, stdout: '' });
  });
});
