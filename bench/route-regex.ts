// What a route regex match costs with re2js (SafeRegex, linear time) against the backtracking
// JavaScript RegExp the proxy used before, on typical route patterns and values; and what the
// path normalizer costs a request whose path needs no work (the hot path of every request) and
// one that does. ns per call, medians of interleaved rounds, in one process.
//   npm run build && node dist/bench/route-regex.js [--calls 200000] [--rounds 7]
import { SafeRegex } from '../src/proxy/config/safe-regex.js';
import type { PathNormalization } from '../src/proxy/config/runtime-config.js';
import { normalizePath } from '../src/proxy/routing/normalize-path.js';

const arg = (name: string, fallback: number) => Number(process.argv.find((a, i) => process.argv[i - 1] === `--${name}`) ?? fallback);
const CALLS = arg('calls', 200_000);
const ROUNDS = arg('rounds', 7);

function re2(pattern: string): SafeRegex {
  const r = SafeRegex.compile(pattern);
  if ('error' in r) throw new Error(r.error);
  return r;
}
/** The old proxy's compilation: RE2 syntax anchored for a full match, run by V8's backtracking engine. */
const js = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`);

// Typical route patterns: a versioned path, a header value, a query value; each with a matching and a non-matching value.
const cases: { name: string; pattern: string; values: string[] }[] = [
  { name: 'path /api/v[0-9]+/users/[0-9]+', pattern: '/api/v[0-9]+/users/[0-9]+', values: ['/api/v2/users/12345', '/api/v2/orders/12345'] },
  { name: 'header (canary|beta)-[a-z0-9]{4,}', pattern: '(canary|beta)-[a-z0-9]{4,}', values: ['canary-7f3a9', 'stable-7f3a9'] },
  { name: 'query .*@example\\.com', pattern: '.*@example\\.com', values: ['someone.long.name@example.com', 'someone@example.org'] },
];

const MERGE_SLASHES: PathNormalization = { normalizePath: true, mergeSlashes: true, escapedSlashes: 'KEEP_UNCHANGED' };
let sink = 0;
type Variant = [string, () => void];
const variants: Variant[] = [];
for (const c of cases) {
  const a = js(c.pattern);
  const b = re2(c.pattern);
  const [v1, v2] = c.values as [string, string];
  variants.push([
    `${c.name} | RegExp`,
    () => {
      if (a.test(v1)) sink++;
      if (a.test(v2)) sink++;
    },
  ]);
  variants.push([
    `${c.name} | re2js`,
    () => {
      if (b.test(v1)) sink++;
      if (b.test(v2)) sink++;
    },
  ]);
}
variants.push([
  'loop and call overhead (no work at all) | -',
  () => {
    sink += 1;
  },
]);
variants.push([
  'normalize /api/v2/users/12345?page=2 (no work) | -',
  () => {
    sink += (normalizePath('/api/v2/users/12345?page=2', MERGE_SLASHES) as string).length;
  },
]);
variants.push([
  'normalize //api/./v2/%75sers/12345?page=2 | -',
  () => {
    sink += (normalizePath('//api/./v2/%75sers/12345?page=2', MERGE_SLASHES) as string).length;
  },
]);

function round(run: () => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) run();
  return Number(process.hrtime.bigint() - t0) / CALLS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [, run] of variants) round(run); // warm-up
const times = new Map<string, number[]>(variants.map(([n]) => [n, []]));
for (let r = 0; r < ROUNDS; r++) for (const [name, run] of variants) times.get(name)!.push(round(run));
console.log(`calls per round: ${CALLS}, rounds: ${ROUNDS}, Node.js ${process.version}; a regex call tests two values (one match, one miss)`);
console.log('| case | RegExp ns | re2js ns | ratio |');
console.log('|---|---:|---:|---:|');
for (const c of cases) {
  const a = median(times.get(`${c.name} | RegExp`)!);
  const b = median(times.get(`${c.name} | re2js`)!);
  console.log(`| ${c.name} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(b / a).toFixed(1)}x |`);
}
for (const [name] of variants.filter(([n]) => n.endsWith(' | -'))) console.log(`| ${name.replace(' | -', '')} | | ${median(times.get(name)!).toFixed(0)} | |`);
if (sink < 0) console.log(sink);
