import v8 from 'node:v8';

/*
 * Two V8 settings for a deploy, which streams a whole tree through short-lived buffers and
 * builds per-file tables once. Set at run time: a `node` flag in the bin's shebang needs
 * `env -S`, which not every system's env (busybox) has. Other commands (a rollback) set
 * neither: they only cost them collections.
 */

/**
 * The young generation stays at its starting size instead of growing to 16 MB per semi-space:
 * with the default growth, it and the file buffers waiting in it for a scavenge held 50–60 MB
 * more at the peak (10,000-file first deploy: 200 MB -> 140 MB RSS). It has to be set before
 * the deploy's modules load: by then the young generation has grown.
 */
export function keepYoungGenerationSmall(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * The old generation may grow by 10% past what the last full collection kept, instead of
 * V8's factor of up to 4: planning an upload builds its tables in one go, and the garbage of
 * doing so (listings, the previous manifest) waited for a full collection that came late
 * (40,000 files, deploy after 10 changes: 165–172 MB -> 140–149 MB RSS). Set once the modules
 * have loaded: during loading it meant a full collection per 10% of growth, 45 ms of a deploy.
 */
export function keepOldGenerationSmall(): void {
  v8.setFlagsFromString('--heap-growing-percent=10');
}
