import { sh } from '../remote/sh.js';
import { appendLog, logEntry } from './log-line.js';
import type { Stage } from './types.js';

export const release: Stage = {
  id: 'release',
  title: 'Create the release directory',
  plan: (ctx) => [
    // Logged before it exists, so a deploy killed from here on leaves a name the next one may clean up.
    appendLog(ctx.paths.log, logEntry(ctx, 'started')),
    // No -p: mkdir fails if the directory exists, so a release is never reused.
    sh`mkdir ${ctx.releasePath}`,
  ],
};
