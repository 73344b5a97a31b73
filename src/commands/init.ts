import fs from 'node:fs';
import path from 'node:path';
import { DeployError } from '../definitions/errors.js';
import { EXIT } from '../definitions/exit-codes.js';
import { detectRecipes, resolvePersistence } from '../persistence/detect.js';
import { initTemplate } from '../persistence/init-template.js';
import { appFilesAt, loadRecipes } from '../persistence/recipes.js';

export interface InitCommandOptions {
  config: string;
  force?: boolean;
}

/** `deploy init`: writes a commented deploy.yml for the framework found next to it. */
export async function initCommand(o: InitCommandOptions): Promise<number> {
  const file = path.resolve(o.config);
  if (fs.existsSync(file) && !o.force) {
    throw new DeployError('EUSAGE', {
      reason: `${o.config} already exists; run \`deploy init --force\` to overwrite it`,
    });
  }
  const dir = path.dirname(file);
  const detection = detectRecipes(appFilesAt(dir), loadRecipes());
  const persistence = resolvePersistence('auto', {}, detection);
  fs.writeFileSync(file, initTemplate(path.basename(dir), detection, persistence));
  process.stdout.write(`wrote ${o.config} for ${persistence.recipe} (${detection.reasons.at(-1) ?? ''})\n`);
  process.stdout.write(`next: set hosts.web1 in ${o.config}, then run \`deploy production\`\n`);
  return EXIT.ok;
}
