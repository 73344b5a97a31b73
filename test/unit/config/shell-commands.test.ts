import { describe, expect, it } from 'vitest';
import { isShellCommand } from '../../../src/config/interpolate.js';
import { parseConfig } from '../../../src/config/load.js';
import { configProblems } from '../../support/errors.js';

const HOSTS = `hosts:\n  web: {deploy_path: /srv/a}\n`;
const load = (yaml: string, env: NodeJS.ProcessEnv = {}) =>
  parseConfig(`application: a\n${yaml}${HOSTS}`, 'deploy.yml', env);

const problems = (yaml: string, env: NodeJS.ProcessEnv = {}): string[] =>
  configProblems(() => load(yaml, env));

describe('shell commands keep ${…} for their shell', () => {
  it('knows which strings are commands: hook and task steps, their `run`, a health check command', () => {
    for (const p of [
      ['hooks', 'before', 'symlink', 0],
      ['hooks', 'after', 'failure', 2, 'run'],
      ['tasks', 'migrate', 0],
      ['tasks', 'migrate', 1, 'run'],
      ['healthcheck', 'command'],
      ['hosts', 'web', 'healthcheck', 'command'],
    ])
      expect(isShellCommand(p), p.join('.')).toBe(true);
    for (const p of [
      ['hooks', 'before', 'symlink', 0, 'task'],
      ['hooks', 'before', 'symlink', 0, 'hosts', 0],
      ['healthcheck', 'url'],
      ['hosts', 'web', 'hostname'],
      ['application'],
    ])
      expect(isShellCommand(p), p.join('.')).toBe(false);
  });

  it('passes ${f} and ${HOME} through in commands, reads ${{ env.VAR }} there and masks it', () => {
    const { config, secrets } = load(
      [
        'hooks:',
        '  after:',
        `    upload:`,
        `      - 'for f in a b; do echo "x\${f}y \${HOME}"; done'`,
        `      - run: 'curl -H "token: \${{ env.API_TOKEN }}" x'`,
        'tasks:',
        `  t: ['echo \${{env.API_TOKEN}} $X']`,
        `healthcheck: {command: 'test -n "\${PORT}"'}`,
        '',
      ].join('\n'),
      { HOME: '/laptop', API_TOKEN: 'tok-123456' },
    );
    expect(config.hooks.after.upload).toEqual([
      'for f in a b; do echo "x${f}y ${HOME}"; done',
      { run: 'curl -H "token: tok-123456" x', local: false, once: false },
    ]);
    expect(config.tasks.t).toEqual(['echo tok-123456 $X']);
    expect(config.healthcheck?.command).toBe('test -n "${PORT}"');
    expect(secrets).toEqual(['tok-123456']);
  });

  it('reads ${VAR} and ${{ env.VAR }} from this machine in every other value', () => {
    const { config } = load(`source: '/\${{ env.SRC }}/\${SUB}'\n`, { SRC: 'work', SUB: 'app' });
    expect(config.source).toBe('/work/app');
  });

  it('a missing variable says how to write the other kind', () => {
    expect(problems(`hooks:\n  after:\n    upload: ['echo \${{ env.GONE }}']\n`)).toEqual([
      "deploy.yml:4:14: hooks.after.upload.0: environment variable GONE is not set on this machine; export it, or write ${GONE} to read the server's variable (commands pass ${...} to their shell)",
    ]);
    expect(problems(`source: '\${GONE}'\n`)).toEqual([
      'deploy.yml:2:9: source: environment variable GONE is not set on this machine; export it or write ${GONE:-default} (a shell variable belongs in a hook or task command, where ${GONE} is left to the shell)',
    ]);
  });

  it('warns when a command’s ${VAR} is set on this machine (its meaning changed in 0.2), not for the shell’s own', () => {
    const { notes } = load(
      `hooks:\n  after:\n    upload: ['echo \${DB_PASSWORD} \${HOME} \${f} $DB_PASSWORD']\n`,
      {
        DB_PASSWORD: 'pw',
        HOME: '/laptop',
      },
    );
    expect(notes).toEqual([
      "hooks.after.upload.0: ${DB_PASSWORD} is the server's variable (hook, task and health check commands pass ${...} to their shell since 0.2), though DB_PASSWORD is set on this machine: write ${{ env.DB_PASSWORD }} to send this machine's value, or $DB_PASSWORD to keep the server's and silence this warning",
    ]);
  });
});
