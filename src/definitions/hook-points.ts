/**
 * Stages a hook may name, kept as a plain list so the config schema can validate keys without
 * importing the pipeline (which imports the schema). A unit test keeps it equal to the deploy
 * stages plus `rollback`; a new stage must be added here too.
 */
export const HOOK_STAGES = [
  'setup',
  'lock',
  'probe',
  'changes',
  'release',
  'upload',
  'shared',
  'writable',
  'symlink',
  'cleanup',
  'unlock',
  'rollback',
] as const;

export type HookStage = (typeof HOOK_STAGES)[number];

/**
 * Points that are no stage: the end of a deploy, by its outcome. Only `hooks.after` has them.
 * `failure` covers every deploy that did not go through: failed, interrupted, switched back.
 */
export const HOOK_EVENTS = ['success', 'failure'] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];
export type HookWhen = 'before' | 'after';

/** Stages that run before the release directory exists: their hooks run in deploy_path. */
export const BEFORE_RELEASE_DIR: readonly string[] = ['setup', 'lock', 'probe', 'changes'];
