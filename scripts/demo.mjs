#!/usr/bin/env node
// The README's quick start: deploys examples/laravel-app twice to .demo/target on this
// machine (a `local: true` host), with a user upload in between, and prints the result.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, '.demo/target');
const config = path.join(root, 'examples/laravel-app/deploy.yml');
const deploy = (...args) =>
  execFileSync(process.execPath, [path.join(root, 'bin/deploy.js'), '-c', config, ...args], {
    stdio: 'inherit',
    env: { ...process.env, CI: process.env.CI ?? '' },
  });

fs.rmSync(path.join(root, '.demo'), { recursive: true, force: true });
// On a real server you put .env in shared/ once, by hand; shipshape refuses to deploy without it.
fs.mkdirSync(path.join(target, 'shared'), { recursive: true });
fs.writeFileSync(path.join(target, 'shared/.env'), 'APP_ENV=demo\nAPP_KEY=base64:ZGVtbw==\n');

console.log('\n== first deploy');
deploy();
const upload = path.join(target, 'current/storage/app/public/avatar.txt');
fs.writeFileSync(upload, 'uploaded by a user between deploys\n');
console.log(`\n== a user uploads ${path.relative(root, upload)}; second deploy`);
deploy();

console.log(`\n== ${path.relative(root, target)}`);
function tree(dir, prefix = '', depth = 0) {
  const names = fs.readdirSync(dir).sort();
  names.forEach((name, i) => {
    const abs = path.join(dir, name);
    const last = i === names.length - 1;
    const st = fs.lstatSync(abs);
    const label = st.isSymbolicLink()
      ? `${name} -> ${fs.readlinkSync(abs)}`
      : st.isDirectory()
        ? `${name}/`
        : name;
    console.log(`${prefix}${last ? '└── ' : '├── '}${label}`);
    const deeper = name === 'releases' || name === 'shared' || depth >= 1;
    if (st.isDirectory() && !st.isSymbolicLink() && depth < 2 && deeper) {
      tree(abs, prefix + (last ? '    ' : '│   '), depth + 1);
    }
  });
}
tree(target);
const survived = fs.readFileSync(path.join(target, 'current/storage/app/public/avatar.txt'), 'utf8');
console.log(`\nthe upload survived the second deploy: ${JSON.stringify(survived.trim())}`);
