#!/usr/bin/env node
// Checks the layout rules of STYLE.md on the sources: no import cycles between files, and
// control-plane/, proxy/, cli/ and dashboard/ never import each other's internals (only
// another area's index.ts is public).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');
const areas = ['control-plane', 'proxy', 'cli', 'dashboard'];
const files = [];
(function walk(dir) {
  for (const e of readdirSync(dir)) {
    const full = path.join(dir, e);
    if (statSync(full).isDirectory()) walk(full);
    else if (e.endsWith('.ts') && !e.endsWith('.d.ts')) files.push(full);
  }
})(src);

const graph = new Map();
const problems = [];
const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const deps = [];
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
    deps.push(target);
    const from = path.relative(src, file).split(path.sep)[0];
    const to = path.relative(src, target).split(path.sep);
    if (areas.includes(from) && areas.includes(to[0]) && to[0] !== from && !(to.length === 2 && to[1] === 'index.ts')) {
      problems.push(`${path.relative(src, file)}: imports ${to.join('/')}, an internal of ${to[0]}/ (import ${to[0]}/index.ts instead)`);
    }
  }
  // Type-only imports cannot create runtime cycles; they are still checked for the area rule above.
  graph.set(file, deps.filter((d) => !new RegExp(`import\\s+type[^'"]*['"][^'"]*${path.basename(d, '.ts')}\\.js['"]`).test(text)));
}

const state = new Map();
const stack = [];
function visit(node) {
  state.set(node, 'active');
  stack.push(node);
  for (const dep of graph.get(node) ?? []) {
    if (!graph.has(dep)) continue;
    if (state.get(dep) === 'active') {
      const cycle = stack.slice(stack.indexOf(dep)).concat(dep).map((f) => path.relative(src, f));
      problems.push(`import cycle: ${cycle.join(' -> ')}`);
    } else if (!state.has(dep)) visit(dep);
  }
  stack.pop();
  state.set(node, 'done');
}
for (const f of graph.keys()) if (!state.has(f)) visit(f);

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
