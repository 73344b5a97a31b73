import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { connectHost } from '../../src/remote/connect.js';
import { LocalTransport } from '../../src/remote/local.js';
import { lines, sh } from '../../src/remote/sh.js';
import { reportPgid, type Transport } from '../../src/remote/transport.js';
import { scanSource } from '../../src/source/scan.js';
import { packTar } from '../../src/source/tar.js';
import { sshHost, writeConfig, writeTree } from '../support/project.js';
import type { SshdServer } from '../support/sshd.js';
import { useSshd } from '../support/sshd-fixture.js';

let server: SshdServer;
let work: string;

useSshd('shipshape-stdin-', (fx) => ({ server, work } = fx));

/** A tar whose second file changes size after the scan: the packer fails part way through. */
async function failingUpload(): Promise<NodeJS.ReadableStream & import('node:stream').Readable> {
  const src = path.join(work, `src-${Math.random().toString(36).slice(2)}`);
  writeTree(src, { 'a.bin': 'a'.repeat(300_000), 'b.txt': 'short' });
  const entries = await scanSource(src, []);
  fs.writeFileSync(path.join(src, 'b.txt'), 'longer than it was');
  return packTar(src, entries);
}

async function expectUploadFailure(transport: Transport): Promise<void> {
  const out = path.join(work, `out-${transport.kind}`);
  // The script waits for all of stdin; without the fix it hangs (local) or the process dies (ssh).
  const exec = transport.exec({
    script: lines(reportPgid, sh`cat > ${out} && echo complete > ${`${out}.done`}`),
    stdin: await failingUpload(),
  });
  await expect(exec).rejects.toMatchObject({ code: 'ESOURCE', message: expect.stringContaining('b.txt') });
  expect(fs.existsSync(`${out}.done`)).toBe(false);
  // The connection is still usable: a deploy goes on to unlock and discard the release.
  await expect(transport.exec({ script: sh`echo still here` })).resolves.toMatchObject({
    code: 0,
    stdout: 'still here\n',
  });
}

describe('an upload source that fails mid-stream', () => {
  it('fails the local exec with the source error and stops the script', async () => {
    await expectUploadFailure(new LocalTransport());
  });

  it('fails the SSH exec with the source error instead of crashing the process', async () => {
    const file = writeConfig(work, {
      application: 'x',
      hosts: { web: sshHost(server, path.join(work, 'srv')) },
    });
    const { config } = parseConfig(fs.readFileSync(file, 'utf8'), file, {});
    const transport = await connectHost(
      'web',
      config.hosts.web!,
      { HOME: work, SSH_AUTH_SOCK: '' },
      { config },
    );
    try {
      await expectUploadFailure(transport);
    } finally {
      await transport.close();
    }
  });
});
