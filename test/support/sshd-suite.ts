import fs from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { tmpDir } from './project.js';
import { startSshd, type SshdOptions, type SshdServer } from './sshd.js';

export interface SshdSuite {
  readonly server: SshdServer;
  /** A temporary directory for the file's projects; removed with the server. */
  readonly work: string;
}

/** A real sshd and a work directory for the tests of one file: started before them, removed after. */
export function sshdSuite(prefix: string, options: SshdOptions = {}): SshdSuite {
  const suite = {} as { server: SshdServer; work: string };
  beforeAll(async () => {
    suite.work = tmpDir(prefix);
    suite.server = await startSshd(options);
  });
  afterAll(async () => {
    await suite.server?.stop();
    if (suite.work) fs.rmSync(suite.work, { recursive: true, force: true });
  });
  return suite;
}
