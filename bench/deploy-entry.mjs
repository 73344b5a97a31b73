// The built CLI, as `npx deploy` runs it, plus one line the benchmark needs: the process's
// peak RSS (KiB) written to $BENCH_RSS_FILE when it ends.
import fs from 'node:fs';
import { main } from '../dist/bin/cli.js';

const code = await main(process.argv);
if (process.env.BENCH_RSS_FILE)
  fs.writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS));
process.exitCode = code;
