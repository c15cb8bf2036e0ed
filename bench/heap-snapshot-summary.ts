// Summarises a V8 heap snapshot (`node --heapsnapshot-signal=SIGUSR2`, or the memory bench's
// --snapshot) into what the memory is: self size by kind and constructor, the code and source
// each package or Trellis area brings (scripts with their functions' bytecode and metadata),
// and the objects that retain the most (a dominator tree, as DevTools' "retained size").
// Run by hand: node dist/bench/heap-snapshot-summary.js FILE.heapsnapshot [--top 25]
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const file = process.argv[2];
if (!file) {
  console.error('usage: heap-snapshot-summary FILE.heapsnapshot [--top N]');
  process.exit(2);
}
const TOP = Number(process.argv.find((a, i) => process.argv[i - 1] === '--top') ?? 25);
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const { meta } = snap.snapshot;
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const [TYPE, NAME, SIZE, EDGES] = ['type', 'name', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f)) as [number, number, number, number];
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const { nodes, edges, strings } = snap;
const count = nodes.length / NF;
const firstEdge = new Uint32Array(count + 1);
for (let i = 0, e = 0; i < count; i++) {
  firstEdge[i] = e;
  e += nodes[i * NF + EDGES]! * EF;
}
firstEdge[count] = edges.length;

const type = (i: number) => nodeTypes[nodes[i * NF + TYPE]!]!;
const name = (i: number) => strings[nodes[i * NF + NAME]!]!;
const size = (i: number) => nodes[i * NF + SIZE]!;
const edgeType = (e: number) => edgeTypes[edges[e]!]!;
const edgeName = (e: number) => (['element', 'hidden'].includes(edgeType(e)) ? String(edges[e + 1]) : strings[edges[e + 1]!]!);
const target = (e: number) => edges[e + 2]! / NF;
const mb = (bytes: number) => (bytes / 1048576).toFixed(2);
function* out(i: number): Generator<number> {
  for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e += EF) yield e;
}
function table(title: string, rows: [string, number][], total?: number): void {
  console.log(`\n## ${title}\n\n| MB | what |\n|---:|---|`);
  for (const [what, bytes] of rows.sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| ${mb(bytes)} | ${what} |`);
  if (total !== undefined) console.log(`| ${mb(total)} | (all) |`);
}
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

// 1. Self size by kind; objects and V8's own records by constructor/name.
let total = 0;
const byKind = new Map<string, number>();
for (let i = 0; i < count; i++) {
  const t = type(i);
  total += size(i);
  add(byKind, ['object', 'native', 'hidden', 'code'].includes(t) ? `${t}: ${name(i).slice(0, 60) || '(anonymous)'}` : t, size(i));
}
table('Self size by kind and constructor', [...byKind], total);

// 2. Per package or Trellis area: script sources, and each function's record with the bytecode,
// scope info and feedback metadata only it points to (reached through its internal edges).
function owner(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  const own = /\/dist\/(src\/[^/]+|bench|test)\//.exec(url);
  if (own) return `trellis ${own[1]}`;
  if (url.startsWith('node:')) return 'node: built-in modules';
  return url ? `other ${url.slice(0, 60)}` : '(no script)';
}
const scriptOwner = new Map<number, string>();
const byOwner = new Map<string, number>();
for (let i = 0; i < count; i++) {
  let source = -1;
  let url = '';
  for (const e of out(i)) {
    if (edgeName(e) === 'source' && type(target(e)).includes('string')) source = target(e);
    if (edgeName(e) === 'name' && type(target(e)) === 'string') url = name(target(e));
  }
  if (source >= 0 && type(i) === 'code') {
    scriptOwner.set(i, owner(url));
    add(byOwner, `${owner(url)} (source text)`, size(source));
  }
}
const FUNCTION_PARTS = new Set([
  'function_data',
  'trusted_function_data',
  'raw_outer_scope_info_or_feedback_metadata',
  'name_or_scope_info',
  'bytecode',
  'constant_pool',
  'source_position_table',
  'handler_table',
]);
const counted = new Uint8Array(count);
for (let i = 0; i < count; i++) {
  if (type(i) !== 'code') continue;
  let script = -1;
  for (const e of out(i)) if (edgeName(e) === 'script' && scriptOwner.has(target(e))) script = target(e);
  if (script < 0) continue;
  // The function record and what hangs off it (bytecode, its constant pool, scope info, ...).
  let bytes = 0;
  const stack = [i];
  while (stack.length) {
    const j = stack.pop()!;
    if (counted[j]) continue;
    counted[j] = 1;
    bytes += size(j);
    for (const e of out(j))
      if ((FUNCTION_PARTS.has(edgeName(e)) || (j !== i && edgeType(e) !== 'weak')) && type(target(e)) === 'code' && !scriptOwner.has(target(e))) stack.push(target(e));
  }
  add(byOwner, `${scriptOwner.get(script)} (functions: bytecode, metadata)`, bytes);
}
table('Code and source by package or Trellis area', [...byOwner]);

// 3. Retained size (dominator tree, Cooper–Harvey–Kennedy) of the biggest single objects.
const order: number[] = [];
const postIndex = new Int32Array(count).fill(-1);
{
  const seen = new Uint8Array(count);
  const stack: [number, number][] = [[0, firstEdge[0]!]];
  seen[0] = 1;
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [i, e] = top;
    if (e < firstEdge[i + 1]!) {
      top[1] = e + EF;
      const t = target(e);
      if (edgeType(e) !== 'weak' && !seen[t]) {
        seen[t] = 1;
        stack.push([t, firstEdge[t]!]);
      }
    } else {
      postIndex[i] = order.length;
      order.push(i);
      stack.pop();
    }
  }
}
const preds: number[][] = Array.from({ length: count }, () => []);
for (let i = 0; i < count; i++) {
  if (postIndex[i]! < 0) continue;
  for (const e of out(i)) if (edgeType(e) !== 'weak' && postIndex[target(e)]! >= 0) preds[target(e)]!.push(i);
}
const idom = new Int32Array(count).fill(-1);
idom[0] = 0;
const intersect = (a: number, b: number) => {
  while (a !== b) {
    while (postIndex[a]! < postIndex[b]!) a = idom[a]!;
    while (postIndex[b]! < postIndex[a]!) b = idom[b]!;
  }
  return a;
};
for (let changed = true; changed;) {
  changed = false;
  for (let k = order.length - 2; k >= 0; k--) {
    const i = order[k]!;
    let dom = -1;
    for (const p of preds[i]!) if (idom[p]! >= 0) dom = dom < 0 ? p : intersect(p, dom);
    if (dom >= 0 && idom[i] !== dom) {
      idom[i] = dom;
      changed = true;
    }
  }
}
const retained = new Float64Array(count);
for (const i of order) {
  retained[i]! += size(i);
  if (i !== 0) retained[idom[i]!]! += retained[i]!;
}
// The biggest objects that are not roots nor V8's own (system /) records.
const biggest: [string, number][] = [];
for (const i of order) {
  const t = type(i);
  if (i === 0 || t === 'synthetic' || name(i).startsWith('system /') || retained[i]! < 65536) continue;
  if (!['object', 'closure', 'native', 'array'].includes(t)) continue;
  // Only the outermost of nested big objects: skip one whose dominator is listed too.
  biggest.push([`${t} ${name(i).slice(0, 70)} @${i}`, retained[i]!]);
}
table('Largest retained sizes (objects, closures, arrays; each includes what it alone keeps alive)', biggest);
