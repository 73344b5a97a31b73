import fs from 'node:fs';
import path from 'node:path';

/** mulberry32: tiny, fast and deterministic, so a seed always gives the same tree. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'namespace use class function public private protected static return array string int bool ' +
  'null true false this self parent new if else foreach as while try catch throw extends ' +
  'implements interface trait abstract final const echo request response model query builder ' +
  'collection illuminate support facades route controller middleware config cache session ' +
  'validator event listener provider container resolve bind singleton make handle $this-> ' +
  '=> :: ; ( ) { } [ ] $value $key $items $user $id $name $data $options $attributes'
).split(' ');

export interface TreeStats {
  files: number;
  bytes: number;
  dirs: number;
  symlinks: number;
}

export interface GenerateOptions {
  root: string;
  seed: number;
  /** Approximate number of files (default 10,000). */
  files: number;
  /** Number of MB-sized binary assets (images, fonts, bundles); default 10 of 4–6 MB. */
  assets?: number;
}

/**
 * A Laravel-like application: mostly small PHP and JS files under vendor/, app/, resources/,
 * a few MB-sized incompressible assets in public/, storage/ with its .gitignore files, an
 * executable artisan and a couple of symlinks. Same seed, same bytes.
 */
export function generateApp(o: GenerateOptions): TreeStats {
  const rand = rng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const stats: TreeStats = { files: 0, bytes: 0, dirs: 0, symlinks: 0 };
  const made = new Set<string>();
  const write = (rel: string, content: string | Buffer, mode = 0o644) => {
    const abs = path.join(o.root, rel);
    const dir = path.dirname(abs);
    if (!made.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      made.add(dir);
      stats.dirs++;
    }
    fs.writeFileSync(abs, content, { mode });
    stats.files++;
    stats.bytes += Buffer.byteLength(content);
  };
  const text = (bytes: number, header: string) => {
    const parts = [header];
    let n = header.length;
    while (n < bytes) {
      const line = `    ${Array.from({ length: 4 + Math.floor(rand() * 8) }, () => pick(WORDS)).join(' ')}\n`;
      parts.push(line);
      n += line.length;
    }
    return parts.join('');
  };
  // Log-normal-ish sizes around 4 KB: most files small, a tail up to ~40 KB.
  const smallSize = () => Math.min(40_000, Math.round(Math.exp(7.6 + rand() * 1.6 - 0.3 + (rand() - 0.5))));

  write('artisan', '#!/usr/bin/env php\n<?php\nrequire __DIR__."/bootstrap/app.php";\n', 0o755);
  write('composer.json', '{"name":"bench/app","require":{"php":"^8.2"}}\n');
  write('.env.example', 'APP_NAME=Bench\nAPP_ENV=production\n');
  for (const d of ['app/public', 'framework/cache', 'framework/sessions', 'framework/views', 'logs']) {
    write(`storage/${d}/.gitignore`, '*\n!.gitignore\n');
  }
  write('bootstrap/cache/.gitignore', '*\n!.gitignore\n');

  const assets = o.assets ?? 10;
  for (let i = 0; i < assets; i++) {
    const size = 4 * (1_000_000 + Math.floor(rand() * 500_000));
    const buf = Buffer.alloc(size);
    for (let j = 0; j < size; j += 4) buf.writeUInt32LE(Math.floor(rand() * 0x100000000), j);
    write(`public/${i % 2 ? 'images' : 'fonts'}/asset-${i}.${i % 2 ? 'jpg' : 'woff2'}`, buf);
  }

  const areas: [prefix: string, share: number, ext: string][] = [
    ['vendor', 0.78, 'php'],
    ['app', 0.06, 'php'],
    ['resources/views', 0.05, 'blade.php'],
    ['resources/js', 0.05, 'js'],
    ['public/build/assets', 0.03, 'js'],
    ['config', 0.01, 'php'],
    ['database/migrations', 0.02, 'php'],
  ];
  const remaining = Math.max(0, o.files - stats.files - 2);
  for (const [prefix, share, ext] of areas) {
    const count = Math.round(remaining * share);
    const dirCount = Math.max(1, Math.round(count / 12));
    const dirs = Array.from({ length: dirCount }, (_, i) =>
      prefix === 'vendor'
        ? `vendor/v${i % 40}/pkg${i}/src/${pick(['Support', 'Http', 'Console', 'Events'])}`
        : `${prefix}/d${i}`,
    );
    for (let i = 0; i < count; i++) {
      write(`${dirs[i % dirCount]}/F${i}.${ext}`, text(smallSize(), `<?php // ${prefix} ${i}\n`));
    }
  }
  fs.symlinkSync('../storage/app/public', path.join(o.root, 'public/storage'));
  fs.mkdirSync(path.join(o.root, 'vendor/bin'), { recursive: true });
  fs.symlinkSync('../v0/pkg0/src', path.join(o.root, 'vendor/bin/tool'));
  stats.symlinks += 2;
  return stats;
}

/** Rewrites `count` small PHP files, chosen by the round number, as a commit would. */
export function changeFiles(root: string, round: number, count = 10): string[] {
  const candidates: string[] = [];
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(p);
      else if (d.isFile() && p.startsWith('app/') && p.endsWith('.php')) candidates.push(p);
    }
  };
  walk('');
  candidates.sort();
  const rand = rng(round + 1);
  const chosen = new Set<string>();
  while (chosen.size < Math.min(count, candidates.length))
    chosen.add(candidates[Math.floor(rand() * candidates.length)]!);
  for (const p of chosen) fs.appendFileSync(path.join(root, p), `// changed in round ${round}\n`);
  return [...chosen];
}
