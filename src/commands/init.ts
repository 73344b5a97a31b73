import fs from 'node:fs';
import path from 'node:path';
import { DeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { detectRecipes, resolvePersistence } from '../persistence/detect.js';
import { initTemplate } from '../persistence/init-template.js';
import { appFilesAt, loadRecipes } from '../persistence/recipes.js';
import { locateGit } from '../source/git.js';
import { readWorkTreeView } from '../source/git-status.js';
import { askYesNo } from '../ui/confirm.js';
import { createOutput } from '../ui/output.js';
import { deployCommand } from '../definitions/invocation.js';

export interface InitCommandOptions {
  config: string;
  force?: boolean;
  /** Asks whether to overwrite; undefined means nobody can answer (no terminal). */
  ask?: (question: string) => Promise<boolean | undefined>;
  write?: (text: string) => void;
}

/** What git ignores in the directory, or undefined outside a work tree. */
async function ignoredIn(dir: string): Promise<string[] | undefined> {
  const loc = await locateGit(dir);
  if (!loc) return undefined;
  return [...(await readWorkTreeView(dir, loc)).ignored].sort();
}

/**
 * `deploy init`: writes a commented deploy.yml for the framework found next to it, aware of what
 * git ignores there. An existing file is overwritten only when a person says so on the terminal,
 * or with --force; without a terminal the command refuses (exit 2).
 */
export async function initCommand(o: InitCommandOptions): Promise<number> {
  const out = createOutput();
  const write = o.write ?? ((t: string) => out.stdout(t));
  const file = path.resolve(o.config);
  if (fs.existsSync(file) && !o.force) {
    const yes = await (o.ask ?? ((q: string) => askYesNo(q, out.sanitise)))(
      `${o.config} exists. Overwrite it? [y/N] `,
    );
    if (yes === undefined) {
      throw new DeployError('EUSAGE', {
        reason: `${o.config} already exists and there is no terminal to ask; run \`${deployCommand`init --force`}\` to overwrite it`,
      });
    }
    if (!yes) {
      write(`left ${o.config} as it was\n`);
      return EXIT.ok;
    }
  }
  const dir = path.dirname(file);
  const detection = detectRecipes(appFilesAt(dir), loadRecipes());
  const persistence = resolvePersistence('auto', {}, detection);
  fs.writeFileSync(file, initTemplate(path.basename(dir), detection, persistence, await ignoredIn(dir)));
  write(`wrote ${o.config} for ${persistence.recipe} (${detection.reasons.at(-1) ?? ''})\n`);
  const env = persistence.shared_files.some((f) => f.path === '.env' && !f.optional);
  write(
    `next: set hosts.staging1 in ${o.config}, prepare the server with \`${deployCommand`setup staging`}${env ? ' --put .env.staging:.env' : ''}\`, then run \`${deployCommand`staging`}\`\n`,
  );
  return EXIT.ok;
}
