import { basePersistence } from '../persistence/app-persistence.js';
import { listPlan } from '../engine/plan-list.js';
import { formatListing } from '../ui/plan-tree.js';
import { loadForOutput, type CommonOptions } from './lifecycle-options.js';

/** `deploy list`: what a deploy runs and which tasks there are, from deploy.yml and the recipe; contacts no host. */
export async function listCommand(o: CommonOptions): Promise<number> {
  const { loaded, out } = loadForOutput(o);
  const { config } = loaded;
  const listing = listPlan(config, basePersistence(config));
  if (o.json) out.json(listing);
  else out.stdout(formatListing(listing));
  return 0;
}
