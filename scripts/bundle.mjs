/**
 * `npm run build`, second step: the bin runs one bundle of what tsc built (dist/cli.js ->
 * dist/bin/cli.cjs). Node 20 resolves, reads and compiles ES modules one by one, and a deploy
 * loads about 200 of ours and several hundred of its dependencies': bundled, a steady-state deploy
 * on the bench starts about 90 ms sooner. CommonJS, so that the bin can compile it with V8's code
 * cache (src/startup/code-cache.ts), which Node 20 offers for scripts and not for ES modules; a
 * command's modules still run only when that command does (esbuild wraps what is imported
 * lazily). ssh2 is inside, so that the cache covers it too (compiled from its own files it cost a
 * deploy ~25 ms); its optional native addons stay outside, loaded from the installed package as
 * ssh2 itself would. Left outside too: the AWS SDK (loaded only for an S3 artifact store).
 * dist/index.js, the library entry, stays tsc's own output.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * zod's namespace re-exports every translation of its messages: 370 KB of the 1 MB a deploy
 * parses at every start. shipshape's messages are English, which zod registers from its own
 * file (locales/en.js), not from this index; nothing here reads `z.locales`.
 */
const withoutZodLocales = {
  name: 'without-zod-locales',
  setup(b) {
    b.onResolve({ filter: /[\\/]locales[\\/]index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'empty' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

/**
 * ssh2 tries its crypto addon by a path relative to its own file, and cpu-features by name, each
 * in a try: from the bundle, both are required from the installed ssh2 (a dependency, so beside
 * shipshape or above it), and a missing or unbuilt addon is ssh2's pure-JS path, as before.
 */
const ssh2Addons = {
  name: 'ssh2-addons',
  setup(b) {
    b.onResolve({ filter: /\.node$|^cpu-features$/ }, (args) => {
      if (args.path === 'cpu-features') return { path: args.path, external: true };
      if (!/[\\/]ssh2[\\/]/.test(args.importer)) return undefined;
      const file = path.resolve(args.resolveDir, args.path);
      const inPackage = file.slice(file.lastIndexOf(`${path.sep}ssh2${path.sep}`) + 1);
      return { path: inPackage.split(path.sep).join('/'), external: true };
    });
  },
};

const outdir = path.join(root, 'dist/bin');
// An earlier build's files (other names) must not stay behind.
fs.rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'dist/cli.js')],
  outfile: path.join(outdir, 'cli.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['@aws-sdk/*'],
  // The AWS SDK's import() as require(): a script compiled by vm has no loader for import().
  supported: { 'dynamic-import': false },
  // import.meta.url, as ES modules have it: the bundle's own file.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [withoutZodLocales, ssh2Addons],
  logLevel: 'warning',
});

/**
 * The bundle as ASCII only. Node reads a file holding one other character into a two-byte string,
 * and V8 scans it as one: every start paid ~15 ms more to read the bundle alone. esbuild writes
 * strings as escapes, but keeps the bytes of comments (a dependency's), regexes and template text.
 * A comment's characters become the escape's text here; that this changed nothing else is checked
 * by comparing both without comments (minifyWhitespace). Anything else is refused: write it as an
 * escape in its source.
 */
const bundleFile = path.join(outdir, 'cli.cjs');
const built = fs.readFileSync(bundleFile, 'utf8');
const ascii = built.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
if (ascii !== built) {
  const code = async (text) => (await transform(text, { minifyWhitespace: true, loader: 'js' })).code;
  const [a, b] = await Promise.all([code(ascii), code(built)]);
  if (a !== b) {
    const lines = built.split('\n').flatMap((l, i) => (/[^\x00-\x7f]/.test(l) ? [i + 1] : []));
    throw new Error(
      `${bundleFile}: a character outside ASCII that is not in a comment, on one of lines ${lines.join(', ')}; write it as an escape (\\uXXXX) in its source`,
    );
  }
  fs.writeFileSync(bundleFile, ascii);
}
