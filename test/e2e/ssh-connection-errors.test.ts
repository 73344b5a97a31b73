import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logOf, releasesOf, runCli, sshProject } from '../support/project.js';
import type { SshdServer } from '../support/sshd.js';
import { useSshd } from '../support/sshd-fixture.js';

let server: SshdServer;
let work: string;
let home: string;
/** While this file exists, `tar` on the server kills its own sshd session: the connection drops mid-upload. */
let dropFlag: string;

useSshd('shipshape-connerr-', (fx) => ({ server, work, home } = fx), {
  fakes: (dir) => {
    dropFlag = path.join(dir, 'drop');
    return {
      tar: [
        '#!/bin/sh',
        `if [ -e '${dropFlag}' ]; then`,
        // The stage's marker is on its way to the client: a killed sshd resets the connection, and a
        // reset drops what the client had received and not yet read (seen once in CI: `release`).
        '  sleep 0.5',
        '  p=$$',
        '  while [ "$p" -gt 1 ]; do',
        "    p=$(cut -d' ' -f4 /proc/$p/stat)",
        '    case "$(cat /proc/$p/comm)" in sshd*) kill -9 "$p"; sleep 5; exit 1 ;; esac',
        '  done',
        'fi',
        'exec /bin/tar "$@"',
        '',
      ].join('\n'),
    };
  },
});

const env = () => ({ HOME: home, SSH_AUTH_SOCK: '', SSH_PRIVATE_KEY: '' });

function project(name: string, hostExtra: Record<string, unknown> = {}) {
  return sshProject(server, work, name, { 'index.html': `${name}\n` }, { host: hostExtra });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('connection errors name host and port and say what to check', () => {
  it('refused: nothing listens on the port', async () => {
    const port = await freePort();
    const { file } = project('refused', { port });
    const r = await runCli(['-c', file, 'web'], { env: env() });
    expect(r.code, r.output).toBe(5);
    expect(r.stderr).toContain(`ECONNECT: web: cannot connect to 127.0.0.1:${port}: ECONNREFUSED`);
    expect(r.stderr).toContain(`hint: Nothing listens on 127.0.0.1:${port}`);
  });

  it('DNS: the name does not resolve', async () => {
    const { file } = project('dns', { hostname: 'no-such-host.invalid' });
    const r = await runCli(['-c', file, 'web'], { env: env() });
    expect(r.code, r.output).toBe(5);
    expect(r.stderr).toContain('ECONNECT: web: cannot connect to no-such-host.invalid:');
    expect(r.stderr).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(r.stderr).toMatch(/hint: .*(does not resolve|DNS lookup failed)/);
  });

  it('lost mid-stage: names the stage and says current was not touched', async () => {
    const { deployPath, file } = project('lost');
    const first = await runCli(['-c', file, 'web'], { env: env() });
    expect(first.code, first.output).toBe(0);
    const live = fs.readlinkSync(path.join(deployPath, 'current'));

    fs.writeFileSync(dropFlag, '');
    try {
      const r = await runCli(['-c', file, 'web'], { env: env() });
      expect(r.code, r.output).toBe(5);
      expect(r.stderr).toContain('ECONNLOST: web: connection lost during stage `upload`');
      expect(r.stderr).toContain('`current` was not touched');
    } finally {
      fs.rmSync(dropFlag);
    }
    expect(fs.readlinkSync(path.join(deployPath, 'current'))).toBe(live);
    expect(releasesOf(deployPath)).toContain(live.replace('releases/', ''));
    expect(logOf(deployPath).filter((l) => l.status === 'success')).toHaveLength(1);
  });
});
