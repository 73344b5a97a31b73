import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * vitest globalSetup: every temporary directory of the run lives under one root, removed when the
 * run ends, whatever its outcome. Tests (and the CLIs, sshd servers and shells they start) find it
 * through TMPDIR, which os.tmpdir() and mktemp read; the workers are started after this and
 * inherit it. A test that fails before its own cleanup leaves nothing behind in /tmp.
 */
export default function setup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-test-run-'));
  // Like /tmp itself (sticky, writable by all): the real-server profile's users and a CLI run as
  // `nobody` make their own temporary files here (tsx keeps its cache in the temp dir).
  fs.chmodSync(root, 0o1777);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    // A scenario that failed between mounting a tmpfs and unmounting it leaves the mount.
    spawnSync('sh', ['-c', 'grep -o " $0/[^ ]*" /proc/mounts | xargs -r -n1 umount -l', root]);
    fs.rmSync(root, { recursive: true, force: true });
  };
}
