// What encoding a batch of spans costs per span: the hand-written OTLP JSON (the proxy's
// default, src/proxy/tracing/otlp-json.ts) beside OTLP protobuf through OpenTelemetry JS's own
// serializer (src/proxy/tracing/otlp-protobuf.ts, used for http/protobuf and gRPC collectors),
// in the same run, rounds interleaved: median µs per span, bytes per span, and the RSS that
// loading each encoder costs a fresh Node.js. Encoding runs off the request path, once per batch.
//   npx tsc -p tsconfig.json && node dist/bench/otlp-encoding.js [--spans 100000] [--rounds 7]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { newSpanId } from '../src/proxy/tracing/ids.js';
import { encodeSpans } from '../src/proxy/tracing/otlp-json.js';
import { SPAN_KIND_CLIENT, STATUS_UNSET, type FinishedSpan, type SpanResource } from '../src/proxy/tracing/span.js';

const arg = (name: string, fallback: number) => Number(process.argv.find((a, i) => process.argv[i - 1] === `--${name}`) ?? fallback);
const SPANS = arg('spans', 100_000);
const ROUNDS = arg('rounds', 7);
const BATCH = 512;
const RESOURCE: SpanResource = { 'service.name': 'frontend', 'service.namespace': 'default', 'service.instance.id': 'sidecar~bench', 'trellis.workload': 'frontend-v1' };

/** A batch like the proxy's: outbound spans with a remote parent and seven attributes. */
function batch(): FinishedSpan[] {
  const start = performance.timeOrigin + performance.now();
  return Array.from({ length: BATCH }, (_, i) => ({
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: newSpanId(),
    parentSpanId: '00f067aa0ba902b7',
    traceState: undefined,
    name: 'GET /items',
    kind: SPAN_KIND_CLIENT,
    startMs: start + i * 0.01,
    endMs: start + i * 0.01 + 1.234,
    attributes: {
      'http.request.method': 'GET',
      'url.path': '/items',
      'server.address': 'catalog',
      'server.port': 8080,
      'http.response.status_code': 200,
      'trellis.destination.service': 'catalog.default',
      'network.peer.address': '127.0.0.1',
    },
    statusCode: STATUS_UNSET,
    statusMessage: undefined,
  }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** ns per span and bytes per span of encoding SPANS spans in batches. */
function measure(encode: (spans: FinishedSpan[]) => { length: number }, spans: FinishedSpan[]): [number, number] {
  let bytes = 0;
  const rounds = Math.ceil(SPANS / BATCH);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) bytes += encode(spans).length;
  return [Number(process.hrtime.bigint() - t0) / (rounds * BATCH), bytes / (rounds * BATCH)];
}

/** RSS a fresh Node.js grows by when it loads `module` (this file's own child runs). */
function loadCost(which: string): number {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--load', which], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

const loadArg = process.argv.indexOf('--load');
if (loadArg >= 0) {
  const before = process.memoryUsage().rss;
  if (process.argv[loadArg + 1] === 'protobuf') await import('../src/proxy/tracing/otlp-protobuf.js');
  else await import('../src/proxy/tracing/otlp-json.js');
  console.log(process.memoryUsage().rss - before);
} else {
  const { encodeSpansProtobuf } = await import('../src/proxy/tracing/otlp-protobuf.js');
  const spans = batch();
  const encoders = { json: (s: FinishedSpan[]) => encodeSpans(RESOURCE, s), protobuf: (s: FinishedSpan[]) => encodeSpansProtobuf(RESOURCE, s) };
  // Warm-up, then interleaved rounds so machine load falls on both alike.
  for (const e of Object.values(encoders)) measure(e, spans);
  const ns: Record<keyof typeof encoders, number[]> = { json: [], protobuf: [] };
  const size: Record<keyof typeof encoders, number> = { json: 0, protobuf: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of ['json', 'protobuf'] as const) {
      const [t, b] = measure(encoders[k], spans);
      ns[k].push(t);
      size[k] = b;
    }
  }
  console.log(`spans per round: ${SPANS}, rounds: ${ROUNDS}, batch ${BATCH}, Node.js ${process.version}`);
  console.log('| encoding | µs per span (median) | bytes per span | RSS to load, MB |');
  console.log('|---|---:|---:|---:|');
  for (const [k, name] of [
    ['json', 'OTLP JSON, by hand (otlp-json.ts)'],
    ['protobuf', 'OTLP protobuf, OpenTelemetry serializer (otlp-protobuf.ts)'],
  ] as const) {
    console.log(`| ${name} | ${(median(ns[k]) / 1000).toFixed(3)} | ${size[k].toFixed(0)} | ${(loadCost(k) / 1e6).toFixed(1)} |`);
  }
  console.log(`ratio protobuf / JSON: ${(median(ns.protobuf) / median(ns.json)).toFixed(2)}x CPU per span, ${(size.protobuf / size.json).toFixed(2)}x bytes`);
}
