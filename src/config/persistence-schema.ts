import { z } from 'zod';
import { isSafeRelative, stripTrailingSlash } from './paths.js';

const WRITABLE_MODES = ['chmod', 'acl', 'chown', 'skip'] as const;
export type WritableMode = (typeof WRITABLE_MODES)[number];

const relativeOrRemoval = z
  .string()
  .refine((p) => isSafeRelative(p.startsWith('!') ? p.slice(1) : p), {
    message: 'must be a relative path inside the release, without `..` (or `!path` to remove a recipe entry)',
  })
  .transform(stripTrailingSlash);

const entryName = z
  .string()
  .regex(/^!?[^/\0]+$/, { message: 'must be a single entry name inside public_dir (no `/`)' })
  .refine((n) => !['.', '..', '!.', '!..'].includes(n), { message: 'must not be `.` or `..`' });

/**
 * The persistence keys of deploy.yml. Lists extend the detected recipe's lists; `!item` removes an
 * item the recipe has (see resolvePersistence in src/persistence/detect.ts).
 */
export const persistenceSettings = {
  recipe: z
    .string()
    .regex(/^(auto|[a-z0-9][a-z0-9-]*)$/, { message: 'use `auto` or a recipe name such as `laravel`' })
    .default('auto')
    .describe(
      'Framework recipe (recipes/*.yml): `auto` detects it from `source`; a name such as `laravel` forces it.',
    ),
  writable_dirs: z
    .array(relativeOrRemoval)
    .default([])
    .describe(
      'Release paths the web server must be able to write; extend the recipe’s, `!path` removes one.',
    ),
  writable_mode: z
    .enum(WRITABLE_MODES)
    .default('chmod')
    .describe(
      'How writable_dirs are made writable: chmod (ug+rwx), acl (setfacl for writable_user), chown (to writable_user), or skip.',
    ),
  writable_user: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, { message: 'must be a user name' })
    .optional()
    .describe('Web server user for writable_mode acl and chown, e.g. www-data.'),
  writable_recursive: z
    .boolean()
    .default(false)
    .describe(
      'Apply writable_mode recursively. Off by default: it walks every upload and overrides modes users set.',
    ),
  public_dir: z
    .string()
    .refine(isSafeRelative, { message: 'must be a relative path inside the release, without `..`' })
    .transform(stripTrailingSlash)
    .nullable()
    .optional()
    .describe(
      'Directory whose top-level entries are shared one by one, except public_exclude. Default: the recipe’s; null turns it off.',
    ),
  public_exclude: z
    .array(entryName)
    .default([])
    .describe(
      'Top-level entries of public_dir kept per release (build output, framework code); extend the recipe’s, `!name` removes one.',
    ),
  enable_hooks: z
    .array(z.string().min(1))
    .default([])
    .describe('Ids of the recipe’s opt-in hooks to run, e.g. `migrate`.'),
};
