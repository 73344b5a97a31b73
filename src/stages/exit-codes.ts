/**
 * Exit codes our remote scripts use to tell the executor *why* a stage failed,
 * chosen from sysexits.h's range so they never collide with a command's usual 1 or 2.
 */
export const REMOTE_EXIT = {
  currentNotLink: 65,
  notARelease: 67,
  sharedMissing: 66,
  releaseChanged: 67,
  targetChanged: 68,
  locked: 75,
  noCurrent: 69,
  writableDenied: 77,
} as const;
