import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { composeScript } from '../../../src/engine/compose.js';
import { persistenceOf } from '../../../src/persistence/app-persistence.js';
import { shared } from '../../../src/stages/shared.js';
import { releaseContext } from '../../support/stage-context.js';
import { tmpDir, writeTree } from '../../support/project.js';

const work = tmpDir('shipshape-shared-failures-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The shared stage of a first deploy, run by /bin/sh as the executor runs it (set -e). */
function runShared(
  name: string,
  yaml: string,
  release: Record<string, string>,
  sharedTree: Record<string, string>,
  skeleton: string[] = [],
) {
  const root = path.join(work, name);
  const r = '20300101-000001';
  writeTree(path.join(root, 'releases', r), release);
  writeTree(path.join(root, 'shared'), sharedTree);
  fs.mkdirSync(path.join(root, '.deploy'), { recursive: true });
  const { config } = parseConfig(
    `application: a\n${yaml}hosts:\n  web: {deploy_path: /srv/app}\n`,
    'deploy.yml',
    {},
  );
  const ctx = releaseContext(config, root, r, {
    persistence: { ...persistenceOf({ config }), shared_skeleton: skeleton },
  });
  const script = composeScript([{ id: 'shared', commands: shared.plan(ctx) }]).text;
  try {
    execFileSync('/bin/sh', ['-c', script], { stdio: 'pipe' });
    return { code: 0, release: path.join(root, 'releases', r) };
  } catch (e) {
    return { code: (e as { status: number }).status, release: path.join(root, 'releases', r) };
  }
}

describe('the shared stage stops at a step that fails (run by /bin/sh on a real tree)', () => {
  it('a seed_shared file that cannot be moved into shared/ fails the stage; the uploaded file is not removed for a link to nothing', () => {
    // shared/config is a file: the file's directory cannot be made there.
    const r = runShared(
      'seed-file',
      'shared_files: [{path: config/app.json, seed_shared: true}]\n',
      { 'config/app.json': '{"seed":true}' },
      { config: 'not a directory' },
    );
    expect(r.code).not.toBe(0);
    expect(fs.readFileSync(path.join(r.release, 'config/app.json'), 'utf8')).toBe('{"seed":true}');
  });

  it('a when_absent: empty file that cannot be created fails the stage', () => {
    const r = runShared(
      'empty-file',
      'shared_files: [{path: database/app.sqlite, optional: true, when_absent: empty}]\n',
      { 'index.php': '<?php' },
      { database: 'not a directory' },
    );
    expect(r.code).not.toBe(0);
  });

  it('a skeleton directory that cannot be made in shared/ fails the stage', () => {
    // As the Laravel recipe's skeleton has it; storage/framework is a file.
    const r = runShared(
      'skeleton',
      'shared_dirs: [storage]\n',
      { 'index.php': '<?php' },
      { 'storage/framework': 'not a directory' },
      ['storage/framework/sessions'],
    );
    expect(r.code).not.toBe(0);
  });
});
