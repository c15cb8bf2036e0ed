// What the telemetry layers cost a request, without the network: the same request context
// through the layer stack with no telemetry layer, with the metrics layer alone (labels by
// source, destination and route), with all five telemetry layers and tracing off, and with
// tracing at the default 1 % (sampled spans are queued, never sent). ns per request, medians
// of interleaved rounds, in one process.
//   npm run build && node dist/bench/telemetry-layers.js [--requests 200000] [--rounds 5]
import type { HttpListenerConfig } from '../src/proxy/config/runtime-config.js';
import type { ClusterState, HttpListenerScope } from '../src/proxy/data-plane-snapshot.js';
import type { Downstream } from '../src/proxy/http/downstream.js';
import { HttpStack, type Handler, type HttpLayer } from '../src/proxy/http/layer.js';
import { RequestContext } from '../src/proxy/http/request-context.js';
import { accessLogLayer } from '../src/proxy/layers/access-log-layer.js';
import { metricsLayer } from '../src/proxy/layers/metrics-layer.js';
import { sourceLayer } from '../src/proxy/layers/source-layer.js';
import { tapLayer } from '../src/proxy/layers/tap-layer.js';
import { traceLayer } from '../src/proxy/layers/trace-layer.js';
import { ProxyMetrics } from '../src/proxy/metrics/proxy-metrics.js';
import { ProxyTelemetry } from '../src/proxy/telemetry/proxy-telemetry.js';
import { httpListener } from '../src/proxy/testing/config-builder.js';

const arg = (name: string, fallback: number) => Number(process.argv.find((a, i) => process.argv[i - 1] === `--${name}`) ?? fallback);
const REQUESTS = arg('requests', 200_000);
const ROUNDS = arg('rounds', 5);

const headers: Record<string, string> = { host: 'catalog:8080', 'user-agent': 'bench' };
const downstream: Downstream = { protocol: 'http/1.1', header: (n) => headers[n], headersSent: false, sendResponse() {}, abort() {}, remoteAddress: '127.0.0.1', hasBody: false };
const cluster = { name: 'outbound|8080||catalog.default', service: 'catalog.default' } as unknown as ClusterState;
const route = { name: 'catalog.default:8080/default' } as unknown as RequestContext['route'];
// The terminal handler stands for routing and forwarding: it picks the cluster and finishes the request.
const terminal: Handler = (ctx) => {
  ctx.route = route;
  ctx.cluster = cluster;
  ctx.status = 200;
  ctx.downstreamClosed();
};

function variant(layers: HttpLayer[], listener: HttpListenerConfig): () => void {
  const stack = new HttpStack(layers, terminal);
  const scope: HttpListenerScope = { listener, router: undefined, stack };
  return () => stack.serve(new RequestContext(scope, downstream, 'GET', '/items', 'catalog:8080'));
}

const metrics = new ProxyMetrics();
const telemetry = new ProxyTelemetry({
  identity: { service: 'frontend.default', serviceName: 'frontend', namespace: 'default', workload: 'frontend-v1', nodeId: 'bench' },
  metrics,
});
const all = [sourceLayer(telemetry), metricsLayer(metrics, telemetry), traceLayer(telemetry), accessLogLayer(telemetry), tapLayer(telemetry)];
const plain = httpListener('out', 0);
// A collector nobody listens on: the few sampled spans queue up and are dropped when sent.
const traced = httpListener('out', 0, { telemetry: { tracingPercent: 1, collector: 'http://127.0.0.1:9' } });
const variants: [string, () => void][] = [
  ['no telemetry layer', variant([], plain)],
  ['metrics layer only', variant([metricsLayer(metrics, telemetry)], plain)],
  ['all five layers, tracing off', variant(all, plain)],
  ['all five layers, tracing 0 %', variant(all, httpListener('out', 0, { telemetry: { tracingPercent: 0, collector: 'http://127.0.0.1:9' } }))],
  ['all five layers, tracing 1 %', variant(all, traced)],
];

function round(run: () => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) run();
  return Number(process.hrtime.bigint() - t0) / REQUESTS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [, run] of variants) round(run); // warm-up: let the JIT settle every path
const times = new Map<string, number[]>(variants.map(([n]) => [n, []]));
for (let r = 0; r < ROUNDS; r++) for (const [name, run] of variants) times.get(name)!.push(round(run));
const base = median(times.get('no telemetry layer')!);
console.log(`requests per round: ${REQUESTS}, rounds: ${ROUNDS}, Node.js ${process.version}`);
console.log('| stack | ns per request | added vs no telemetry |');
console.log('|---|---:|---:|');
for (const [name] of variants) {
  const m = median(times.get(name)!);
  console.log(`| ${name} | ${m.toFixed(0)} | ${(m - base).toFixed(0)} |`);
}
await telemetry.close();
process.exit(0);
