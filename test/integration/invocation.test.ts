import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.js';
import { loadConfig } from '../../src/config/load.js';
import { deploy } from '../../src/engine/deploy.js';
import { MemoryReporter } from '../../src/engine/reporter.js';
import { quote } from '../../src/remote/sh.js';
import { tmpDir, writeTree } from '../support/project.js';

let root: string;
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(root, { recursive: true, force: true });
});

it('a library deploy() prints its own deploy.yml in its hints, also after main() ran with another -c', async () => {
  root = tmpDir('shipshape-invocation-');
  writeTree(path.join(root, 'app'), { 'index.html': 'v1\n' });
  // Two deploy.yml naming the same host alias for two servers: a hint with the wrong -c acts on the other.
  const [a, b] = ['a', 'b'].map((n) => {
    const file = path.join(root, `${n}.yml`);
    fs.writeFileSync(
      file,
      stringify({
        application: n,
        source: 'app',
        shared_files: ['.env'],
        hosts: { web: { local: true, deploy_path: path.join(root, `server-${n}`) } },
      }),
    );
    return file;
  }) as [string, string];
  const putHint = async () => {
    const r = await deploy({ loaded: loadConfig(b, {}), selector: 'web', reporter: new MemoryReporter() });
    expect(r.error?.code).toBe('ESHAREDMISSING');
    return r.error!.hint;
  };
  const expected = `deploy -c ${quote(b)} setup web --put`;

  expect(await putHint()).toContain(expected);
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  expect(await main(['node', 'deploy', '-c', a, 'hosts'])).toBe(0);
  vi.restoreAllMocks();
  const hint = await putHint();
  expect(hint).toContain(expected);
  expect(hint).not.toContain(a);
});
