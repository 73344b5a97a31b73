#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { runBundle } from '../dist/startup/code-cache.js';

process.exitCode = await runBundle(
  fileURLToPath(new URL('../dist/bin/cli.cjs', import.meta.url)),
  process.argv,
);
