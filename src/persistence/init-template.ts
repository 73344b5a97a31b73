import { stringify } from 'yaml';
import type { Detection, Persistence } from './detect.js';

const yamlValue = (v: unknown): string => stringify(v).trimEnd();

const commented = (items: readonly string[]): string[] => items.map((i) => `#   - ${yamlValue(i)}`);

/**
 * A deploy.yml for the detected framework: valid as written, with what the recipe already does
 * shown in comments so the user sees what they need not repeat.
 */
export function initTemplate(application: string, detection: Detection, p: Persistence): string {
  const files = p.shared_files.map((f) => (f.optional ? `${f.path} (optional)` : f.path));
  return [
    '# yaml-language-server: $schema=./node_modules/shipshape/schema/deploy.schema.json',
    `# Written by \`deploy init\`. Every key is documented in deploy.example.yml and docs/persistence.md.`,
    '',
    `application: ${yamlValue(application)}`,
    'keep_releases: 5',
    '',
    `# Detected: ${detection.reasons.join('; ')}.`,
    `# \`auto\` detects again on every deploy; write \`recipe: ${p.recipe}\` to pin it.`,
    'recipe: auto',
    '',
    `# What the ${p.recipe} recipe keeps in {deploy_path}/shared and links into every release:`,
    '#   shared_dirs:',
    ...(p.shared_dirs.length ? commented(p.shared_dirs) : ['#     (none)']),
    '#   shared_files:',
    ...(files.length ? commented(files) : ['#     (none)']),
    ...(p.public_dir
      ? [
          `#   ${p.public_dir}/: every top-level entry is shared except these, which stay per release:`,
          `#     ${p.public_exclude.join(', ')}`,
        ]
      : ['#   no public directory is shared.']),
    ...(p.writable_dirs.length ? ['#   writable_dirs:', ...commented(p.writable_dirs)] : []),
    '# Add your own below (they extend the recipe; `!item` removes one of its entries).',
    'shared_dirs: []',
    'shared_files: []',
    '',
    '# chmod | acl | chown | skip; acl and chown need writable_user (the web server user).',
    'writable_mode: chmod',
    '# writable_user: www-data',
    '',
    'default_selector: production',
    'hosts:',
    '  web1:',
    '    hostname: web1.example.com',
    '    user: deploy',
    `    deploy_path: /var/www/${application.replace(/[^A-Za-z0-9._-]/g, '-') || 'app'}`,
    '    stage: production',
    '',
  ].join('\n');
}
