import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { afterEach, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { deploy } from '../../src/engine/deploy.js';
import { MemoryReporter } from '../../src/engine/reporter.js';
import { tmpDir, writeTree } from '../support/project.js';

let root: string;
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** gzip's XFL header byte: 4 when zlib compressed at level 1, 0 at its middle levels. */
const XFL = 8;

it.each([
  ['none', 4],
  ['gzip', 0],
] as const)(
  'the release manifest, the upload’s last entry, is gzipped fast where the upload is not compressed (compression: %s)',
  async (compression, xfl) => {
    root = tmpDir('shipshape-manifest-level-');
    writeTree(path.join(root, 'app'), { 'index.html': 'v1\n', 'lib/a.php': '<?php\n' });
    const deployPath = path.join(root, 'server');
    const loaded = parseConfig(
      stringify({
        application: 'a',
        source: 'app',
        compression,
        hosts: { web: { local: true, deploy_path: deployPath } },
      }),
      path.join(root, 'deploy.yml'),
      {},
    );
    const r = await deploy({ loaded, selector: 'web', reporter: new MemoryReporter() });
    expect(r.exitCode).toBe(0);
    const gz = fs.readFileSync(path.join(deployPath, '.deploy', 'upload-manifests', `${r.release}.json.gz`));
    expect(gz[XFL]).toBe(xfl);
    expect(JSON.parse(gunzipSync(gz).toString('utf8'))).toMatchObject({ release: r.release });
  },
);
