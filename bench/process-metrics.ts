// What the sidecar's process metrics cost: RSS and scrape time of an empty registry, of
// Trellis's own process metrics (process-metrics.ts), and of prom-client's defaultMetrics, each
// in a fresh Node.js process (RSS after loading, and the median time of one scrape).
//   npm run build && node dist/bench/process-metrics.js [--rounds 3]
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.argv.find((a, i) => process.argv[i - 1] === '--rounds') ?? 3);
const variant = process.argv[2];

async function measure(kind: string): Promise<void> {
  const { Registry } = await import('../src/proxy/metrics/prom-client-core.js');
  await import('node:http');
  await import('node:tls');
  const rss0 = process.memoryUsage.rss();
  const registry = new Registry();
  if (kind === 'trellis') (await import('../src/proxy/metrics/process-metrics.js')).registerProcessMetrics(registry);
  if (kind === 'prom-client') (createRequire(import.meta.url)('prom-client/lib/defaultMetrics') as (o: { register: unknown }) => void)({ register: registry });
  await registry.metrics();
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    await registry.metrics();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ rssMb: (process.memoryUsage.rss() - rss0) / 1e6, scrapeMs: times[25] }));
  process.exit(0);
}

if (variant !== undefined) await measure(variant);
else {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const results = new Map<string, { rss: number[]; ms: number[] }>();
  for (let r = 0; r < ROUNDS; r++)
    for (const kind of ['none', 'trellis', 'prom-client']) {
      const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), kind], { encoding: 'utf8' });
      const { rssMb, scrapeMs } = JSON.parse(out.stdout) as { rssMb: number; scrapeMs: number };
      const e = results.get(kind) ?? { rss: [], ms: [] };
      e.rss.push(rssMb);
      e.ms.push(scrapeMs);
      results.set(kind, e);
    }
  console.log(`Node.js ${process.version}, ${ROUNDS} rounds\n| process metrics | RSS added, MB | one scrape, ms |\n|---|---:|---:|`);
  for (const [kind, e] of results) console.log(`| ${kind} | ${median(e.rss).toFixed(1)} | ${median(e.ms).toFixed(3)} |`);
}
