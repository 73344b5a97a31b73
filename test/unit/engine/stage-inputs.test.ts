import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { runStages } from '../../../src/engine/executor.js';
import type { Reporter } from '../../../src/engine/reporter.js';
import { LocalTransport } from '../../../src/remote/local.js';
import { sh } from '../../../src/remote/sh.js';
import type { HostContext, Stage } from '../../../src/stages/types.js';
import { hostContext } from '../../support/stage-context.js';

const { config } = parseConfig(`application: a\nhosts:\n  web: {deploy_path: /srv/app}\n`, 'deploy.yml', {});
const ctx = hostContext(config, '/srv/app');
const quiet: Reporter = { stage: () => {}, log: () => {} } as unknown as Reporter;

describe("a phase's stage inputs and its one stream share stdin (run by /bin/sh)", () => {
  it('each stage reads exactly its own bytes, whichever runs first, and the stream reader gets the rest', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stage-inputs-'));
    const out = (n: string) => path.join(dir, n);
    // The stream's reader runs first and reads to the end; the stages with inputs run after it.
    const streamed = Buffer.concat([Buffer.from('tar-like\n'), Buffer.alloc(70_000, 0x61)]);
    const reader: Stage<HostContext> = {
      id: 'upload',
      title: 'upload',
      plan: () => [sh`cat > ${out('stream')}`],
      stdin: () => Readable.from([streamed]),
    };
    const withInput = (id: string, text: string): Stage<HostContext> => ({
      id,
      title: id,
      plan: () => [sh`printf '%s' "$__ss_${id === 'one' ? sh`one` : sh`two`}" > ${out(id)}`],
      input: () => ({ into: id === 'one' ? sh`__ss_one` : sh`__ss_two`, text }),
    });
    const two = `commands\nwith 'quotes' and é\n${'x'.repeat(100_000)}`;
    await runStages(
      { alias: 'web', transport: new LocalTransport(), reporter: quiet },
      [reader, withInput('one', 'first input'), withInput('two', two)],
      ctx,
    );
    expect(fs.readFileSync(out('stream')).equals(streamed)).toBe(true);
    expect(fs.readFileSync(out('one'), 'utf8')).toBe('first input');
    expect(fs.readFileSync(out('two'), 'utf8')).toBe(two);
    fs.rmSync(dir, { recursive: true });
  });

  it('refuses an input variable that is not one of ours', async () => {
    const bad: Stage<HostContext> = {
      id: 'x',
      title: 'x',
      plan: () => [sh`true`],
      input: () => ({ into: sh`PATH`, text: 'x' }),
    };
    await expect(
      runStages({ alias: 'web', transport: new LocalTransport(), reporter: quiet }, [bad], ctx),
    ).rejects.toThrow(/reads its input into PATH/);
  });
});
