import { changes } from '../stages/changes.js';
import { cleanup } from '../stages/cleanup.js';
import { lock } from '../stages/lock.js';
import { probe } from '../stages/probe.js';
import { release } from '../stages/release.js';
import { setup } from '../stages/setup.js';
import { shared } from '../stages/shared.js';
import { symlink } from '../stages/symlink.js';
import { unlock } from '../stages/unlock.js';
import { upload } from '../stages/upload.js';
import { writable } from '../stages/writable.js';
import { recipeHooks } from '../stages/recipe-hooks.js';

const recipeBefore = recipeHooks(['after_shared', 'after_writable', 'before_symlink']);
const recipeAfter = recipeHooks(['after_symlink'], 'recipe-hooks-after');

/**
 * The deploy, as phases. Each phase is one script (one exec request) per host, or goes in the
 * script of the phase before it (engine/hooks-phases.ts); every host finishes a phase before any
 * host starts the next, so no host switches until all are prepared.
 */
export const DEPLOY = {
  /** Read-write: creates the layout, takes the lock, then reads the state under it. */
  prepare: [setup, lock, probe, changes],
  upload: [release, upload],
  link: [shared, writable, recipeBefore],
  switch: [symlink],
  finish: [recipeAfter, cleanup, unlock],
} as const;
