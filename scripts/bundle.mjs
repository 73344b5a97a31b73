/**
 * `npm run build`, second step: the bin runs a bundle of what tsc built (dist/cli.js ->
 * dist/bin/), one chunk per command. Node 20 resolves, reads and compiles ES modules one by one,
 * and a deploy loads about 200 of ours and several hundred of its dependencies': bundled, a
 * steady-state deploy on the bench starts about 90 ms sooner. Left outside: ssh2 (an optional
 * native addon beside it) and the AWS SDK (loaded only for an S3 artifact store). dist/index.js,
 * the library entry, stays tsc's own output.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

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

const outdir = path.join(root, 'dist/bin');
// Chunk names carry a hash: without this, every build would leave the last one's chunks behind.
fs.rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'dist/cli.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2', '@aws-sdk/*'],
  // CommonJS dependencies in an ES module bundle still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
  plugins: [withoutZodLocales],
  logLevel: 'warning',
});
