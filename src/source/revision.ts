import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The git commit of `source`, with `-dirty` when the work tree has changes; undefined outside git. */
export async function readRevision(source: string): Promise<string | undefined> {
  try {
    const { stdout: head } = await run('git', ['-C', source, 'rev-parse', 'HEAD']);
    const { stdout: status } = await run('git', [
      '-C',
      source,
      'status',
      '--porcelain',
      '--untracked-files=no',
    ]);
    return head.trim() + (status.trim() ? '-dirty' : '');
  } catch {
    return undefined;
  }
}
