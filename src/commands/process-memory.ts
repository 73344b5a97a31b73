import v8 from 'node:v8';

/*
 * Two V8 settings for a deploy, which streams a whole tree through short-lived buffers and
 * builds per-file tables once. Set at run time, because no public API sets them any other way
 * for a bin: Node reads its own documented heap options (--max-semi-space-size) only at start,
 * which a shebang can pass only with `env -S` (not every system's env, busybox's among them, has
 * it) and a re-exec costs a second start; a Worker's resourceLimits would move the deploy into a
 * worker thread. v8.setFlagsFromString is public, but the flags are V8's own and may be renamed
 * or dropped by any Node release: V8 then prints "unrecognized flag" and carries on without
 * them. test/unit/process-memory.test.ts fails when either flag is no longer recognised, or the
 * young generation's no longer has its effect. Other commands (a rollback) set neither: they
 * only cost them collections.
 */
export const V8_SETTINGS = {
  young: '--semi-space-growth-factor=1',
  old: '--heap-growing-percent=10',
} as const;

/**
 * The young generation stays at its starting size instead of growing to 16 MB per semi-space:
 * with the default growth, it and the file buffers waiting in it for a scavenge held 50–60 MB
 * more at the peak (10,000-file first deploy: 200 MB -> 140 MB RSS). It has to be set before
 * the deploy's modules load: by then the young generation has grown.
 */
export function keepYoungGenerationSmall(): void {
  v8.setFlagsFromString(V8_SETTINGS.young);
}

/**
 * The old generation may grow by 10% past what the last full collection kept, instead of
 * V8's factor of up to 4: planning an upload builds its tables in one go, and the garbage of
 * doing so (listings, the previous manifest) waited for a full collection that came late
 * (40,000 files, deploy after 10 changes: 165–172 MB -> 140–149 MB RSS). Set once the modules
 * have loaded: during loading it meant a full collection per 10% of growth, 45 ms of a deploy.
 */
export function keepOldGenerationSmall(): void {
  v8.setFlagsFromString(V8_SETTINGS.old);
}

/**
 * V8's own values of the two settings. The bin compiles the CLI under these (V8 refuses a code
 * cache made under other flags), so the cache it makes when the run ends is made under them too
 * (startup/code-cache.ts).
 */
export const V8_DEFAULTS = {
  young: '--semi-space-growth-factor=2',
  old: '--heap-growing-percent=0',
} as const;

export function restoreV8Defaults(): void {
  v8.setFlagsFromString(V8_DEFAULTS.young);
  v8.setFlagsFromString(V8_DEFAULTS.old);
}
