import type { Note } from '../definitions/note.js';
import { markerLines } from '../remote/markers.js';
import { SHARED_MARKER } from './shared-links.js';

/** What the shared stage did about shared paths that shared/ did not hold yet, as reporter lines. */
export function sharedNotes(stdout: string, liveRelease: string | undefined): Note[] {
  return markerLines(stdout, SHARED_MARKER).flatMap((line): Note[] => {
    const sp = line.indexOf(' ');
    const [what, p] = [line.slice(0, sp), line.slice(sp + 1)];
    switch (what) {
      case 'adopted':
        return [
          {
            level: 'warn',
            message: `shared/${p}: adopted from the live release${liveRelease ? ` ${liveRelease}` : ''}, where the app had created it; moved into shared/ and linked in both releases`,
          },
        ];
      case 'seeded':
        return [
          {
            level: 'info',
            message: `shared/${p}: seeded from the upload (its git-tracked files, or seed_shared), once for this host; nothing there was overwritten`,
          },
        ];
      case 'empty':
        return [
          {
            level: 'info',
            message: `shared/${p}: created empty and writable by the app (when_absent: empty)`,
          },
        ];
      case 'absent':
        return [
          {
            level: 'info',
            message: `shared/${p} does not exist yet (optional); linked anyway, so it is found in shared/ once it is put there`,
          },
        ];
      case 'dropped':
        return [
          {
            level: 'warn',
            message: `shared/${p} is no longer in shared_dirs or shared_files: the live release${liveRelease ? ` ${liveRelease}` : ''} links it, the new release does not, so the files the app keeps there stay in shared/${p}, where the new release does not read them; nothing was moved or deleted (declare it again, or move the files where the app now reads them)`,
          },
        ];
      case 'created':
        return [{ level: 'info', message: `shared/${p}: created (empty)` }];
      default:
        return [];
    }
  });
}
