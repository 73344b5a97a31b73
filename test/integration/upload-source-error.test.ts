import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { deploy, prepareDeploy } from '../../src/engine/deploy.js';
import { hookBook } from '../../src/engine/hooks.js';
import { MemoryReporter } from '../../src/engine/reporter.js';
import { selectHosts } from '../../src/engine/selector.js';
import { tmpDir, writeTree } from '../support/project.js';

let root: string;
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

it('a source file that changes during the upload fails the deploy cleanly: unlocked, no release left', async () => {
  root = tmpDir('shipshape-srcerr-');
  writeTree(path.join(root, 'app'), { 'index.html': 'v1\n', 'big.bin': 'x'.repeat(300_000) });
  const deployPath = path.join(root, 'server');
  const loaded = parseConfig(
    stringify({ application: 'a', source: 'app', hosts: { web: { local: true, deploy_path: deployPath } } }),
    path.join(root, 'deploy.yml'),
    {},
  );
  const reporter = new MemoryReporter();
  const book = hookBook(loaded.config, selectHosts(loaded.config, 'web'));
  // Scanned first, changed after: the packer finds the size no longer matches mid-stream.
  const prepared = await prepareDeploy(loaded, book, reporter, {});
  fs.writeFileSync(path.join(root, 'app', 'index.html'), 'a longer version 2\n');

  const r = await deploy({ loaded, selector: 'web', reporter, prepared });
  expect(r.exitCode).toBe(1);
  expect(r.outcomes[0]!.error?.code).toBe('ESOURCE');
  expect(r.outcomes[0]!.error?.message).toContain('index.html');
  expect(fs.existsSync(path.join(deployPath, '.deploy', 'lock'))).toBe(false);
  expect(fs.existsSync(path.join(deployPath, 'current'))).toBe(false);
  expect(fs.readdirSync(path.join(deployPath, 'releases'))).toEqual([]);
  const log = fs
    .readFileSync(path.join(deployPath, '.deploy', 'releases.jsonl'), 'utf8')
    .trim()
    .split('\n');
  expect(JSON.parse(log.at(-1)!)).toMatchObject({ status: 'failed' });
});
