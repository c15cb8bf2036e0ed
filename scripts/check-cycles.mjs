#!/usr/bin/env node
// Checks the layout rules of STYLE.md on the sources: no import cycles between files, and
// control-plane/, proxy/, cli/ and dashboard/ never import each other's internals (only
// another area's index.ts is public); and a sidecar's entry (cli/proxy-main.ts) loads no code
// of the control plane, the dashboard, other commands or packages only they use.
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
/** Packages each file loads at run time (import, import(), require). */
const packagesOf = new Map();
const problems = [];
const packageRe =
  /(?:^|\n)\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+['"]([^.'"][^'"]*)['"]|import\(\s*['"]([^.'"][^'"]*)['"]\s*\)|require\(\s*['"]([^.'"][^'"]*)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^.'"][^'"]*)['"]/g;
const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const deps = [];
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
    deps.push(target);
    const from = path.relative(src, file).split(path.sep)[0];
    const to = path.relative(src, target).split(path.sep);
    if (areas.includes(from) && areas.includes(to[0]) && to[0] !== from && !(to.length === 2 && to[1] === 'index.ts')) {
      problems.push(`${path.relative(src, file)}: imports ${to.join('/')}, an internal of ${to[0]}/ (import ${to[0]}/index.ts instead)`);
    }
  }
  packagesOf.set(
    file,
    [...text.matchAll(packageRe)]
      .map((m) => m[1] ?? m[2] ?? m[3] ?? m[4])
      .filter((p) => !p.startsWith('node:'))
      .map((p) => (p.startsWith('@') ? p.split('/').slice(0, 2) : p.split('/').slice(0, 1)).join('/')),
  );
  // Type-only imports cannot create runtime cycles; they are still checked for the area rule above.
  graph.set(
    file,
    deps.filter((d) => !new RegExp(`import\\s+type[^'"]*['"][^'"]*${path.basename(d, '.ts')}\\.js['"]`).test(text)),
  );
}

const state = new Map();
const stack = [];
function visit(node) {
  state.set(node, 'active');
  stack.push(node);
  for (const dep of graph.get(node) ?? []) {
    if (!graph.has(dep)) continue;
    if (state.get(dep) === 'active') {
      const cycle = stack
        .slice(stack.indexOf(dep))
        .concat(dep)
        .map((f) => path.relative(src, f));
      problems.push(`import cycle: ${cycle.join(' -> ')}`);
    } else if (!state.has(dep)) visit(dep);
  }
  stack.pop();
  state.set(node, 'done');
}
for (const f of graph.keys()) if (!state.has(f)) visit(f);

// What a sidecar must not load: code it never runs costs memory in every one of them.
const PROXY_ENTRY = path.join(src, 'cli/proxy-main.ts');
const PROXY_MUST_NOT_LOAD = [
  { what: 'control-plane code', file: (f) => f.startsWith('control-plane/') },
  { what: 'dashboard code', file: (f) => f.startsWith('dashboard/') },
  // `trellis gateway` runs the same proxy process (node kind gateway) and starts from the same entry.
  { what: 'another command', file: (f) => f.startsWith('cli/commands/') && f !== 'cli/commands/proxy.ts' && f !== 'cli/commands/gateway.ts' },
  { what: 'the CLI of every command', file: (f) => f === 'cli/main.ts' },
  { what: 'the full Envoy .proto tree (the proxy decodes with xds/proxy-protos.ts)', file: (f) => f === 'xds/protos.ts' },
  { what: 'the OpenTelemetry .proto files (the proxy encodes with otlp-transformer, only the control plane decodes)', file: (f) => f === 'otlp/otlp-protos.ts' },
  { what: 'API resource parsing', file: (f) => f.startsWith('api/') && !['api/problem.ts', 'api/re2.ts', 'api/telemetry.ts', 'api/access-log-fields.ts'].includes(f) },
  { what: 'a package only other commands use', pkg: (p) => ['undici', 'zod', 'yaml', 'cytoscape', 'uplot', '@grpc/proto-loader', '@grpc/grpc-js-xds'].includes(p) },
];
{
  const from = new Map([[PROXY_ENTRY, undefined]]);
  const queue = [PROXY_ENTRY];
  while (queue.length) {
    const file = queue.shift();
    const rel = path.relative(src, file);
    const via = () => {
      const chain = [];
      for (let f = file; f; f = from.get(f)) chain.unshift(path.relative(src, f));
      return chain.join(' -> ');
    };
    for (const rule of PROXY_MUST_NOT_LOAD) {
      if (rule.file?.(rel)) problems.push(`the proxy entry loads ${rule.what}: ${via()}`);
      for (const p of packagesOf.get(file) ?? []) if (rule.pkg?.(p)) problems.push(`the proxy entry loads ${p}, ${rule.what}: ${via()}`);
    }
    for (const dep of graph.get(file) ?? []) {
      if (graph.has(dep) && !from.has(dep)) {
        from.set(dep, file);
        queue.push(dep);
      }
    }
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
