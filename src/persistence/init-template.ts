import { stringify } from 'yaml';
import type { Detection, Persistence } from './detect.js';

const yamlValue = (v: unknown): string => stringify(v).trimEnd();

const commented = (items: readonly string[]): string[] => items.map((i) => `#   - ${yamlValue(i)}`);

/** Where front-end toolchains and frameworks write their build output: candidates for `include`. */
const BUILD_OUTPUT = [
  'public/build',
  'public/js',
  'public/css',
  'public/mix-manifest.json',
  'public/assets',
  'public/packs',
  'public/vite',
  'dist',
  'build',
  '.next',
  '.output',
];

const LISTED = 8;

/**
 * What the template says about git: the source is uploaded as git sees it, so what git ignores
 * (listed) stays home, dependency folders must be installed on the server or included, and build
 * output of a local step goes under `include`.
 */
function gitSection(ignored: readonly string[] | undefined, p: Persistence): string[] {
  if (!ignored) {
    return [
      '# Not a git work tree: everything in the source directory is uploaded except `exclude`',
      '# and .deployignore patterns.',
      'exclude: []',
    ];
  }
  const bare = ignored.map((i) => i.replace(/\/$/, ''));
  const built = BUILD_OUTPUT.filter((b) => bare.includes(b));
  const example = built.length ? built : p.public_dir ? [`${p.public_dir}/build`] : ['dist'];
  const deps = (['vendor', 'node_modules'] as const).filter((d) => bare.includes(d));
  return [
    '# Uploaded as git sees the source: what .gitignore, .git/info/exclude and your global excludes',
    '# file ignore stays on this machine (respect_gitignore: false turns that off).',
    ...(ignored.length
      ? [
          `# Ignored here now: ${ignored.slice(0, LISTED).join(', ')}${ignored.length > LISTED ? `, and ${ignored.length - LISTED} more` : ''}.`,
        ]
      : []),
    ...(deps.includes('vendor')
      ? [
          '# vendor/ is not uploaded: install it on the server, e.g.',
          '#   hooks: { after: { upload: [composer install --no-dev --prefer-dist --no-interaction] } }',
        ]
      : []),
    ...(deps.includes('node_modules')
      ? ['# node_modules/ is not uploaded: install it on the server (npm ci --omit=dev) if the app needs it.']
      : []),
    '# Output of a local build step is git-ignored too: list it under include to upload it, e.g.',
    `#   include: [${example.join(', ')}]`,
    '#   hooks: { before: { upload: [{ run: npm ci && npm run build, local: true }] } }',
    'include: []',
    'exclude: []',
  ];
}

/**
 * A deploy.yml for the detected framework: valid as written, with what the recipe already does
 * shown in comments so the user sees what they need not repeat.
 */
export function initTemplate(
  application: string,
  detection: Detection,
  p: Persistence,
  /** What git ignores in the source; undefined outside a git work tree. */
  ignored?: readonly string[],
): string {
  const files = p.shared_files.map((f) => (f.optional ? `${f.path} (optional)` : f.path));
  const dir = application.replace(/[^A-Za-z0-9._-]/g, '-') || 'app';
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
    ...gitSection(ignored, p),
    '',
    '# Build once, deploy the same bytes everywhere: `deploy build` runs the local build steps and',
    '# records what they leave as an artifact (it prints the id); `deploy staging --artifact <id>`,',
    '# then `deploy production --artifact <id>`, deploy exactly that. The default store is a',
    '# directory beside this file: add `.shipshape/` to .gitignore. With an S3 store, hosts fetch the',
    '# files themselves (fetch: auto); see docs/artifacts.md.',
    '#   artifacts: { store: s3://my-bucket/my-app, region: eu-west-1 }',
    '',
    '# A bare `deploy` goes to staging; production is always named: `deploy production`.',
    'default_selector: staging',
    'hosts:',
    '  staging1:',
    '    hostname: staging.example.com',
    '    user: deploy',
    `    deploy_path: /var/www/${dir}`,
    '    stage: staging',
    '  # web1:',
    '  #   hostname: web1.example.com',
    '  #   user: deploy',
    `  #   deploy_path: /var/www/${dir}`,
    '  #   stage: production',
    '',
  ].join('\n');
}
