// The built CLI, as `npx deploy` runs it, plus one line the benchmark needs: the process's
// peak RSS (KiB) written to $BENCH_RSS_FILE when it ends.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runBundle } from '../dist/startup/code-cache.js';

const code = await runBundle(fileURLToPath(new URL('../dist/bin/cli.cjs', import.meta.url)), process.argv);
if (process.env.BENCH_RSS_FILE)
  fs.writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS));
process.exitCode = code;
