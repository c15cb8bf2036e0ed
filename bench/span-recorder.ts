// What a span costs the proxy: Trellis's own recorder (ids from a random pool, a plain record,
// hand-written OTLP JSON per batch of 512) beside the OpenTelemetry JS SDK (TracerProvider,
// BatchSpanProcessor-style batches serialized with @opentelemetry/otlp-transformer's JSON
// serializer), in the same run: CPU per span (median of interleaved rounds) and the resident
// memory that loading each costs a fresh Node.js. Nothing is sent.
//   npm run build && node dist/bench/span-recorder.js [--spans 100000] [--rounds 5]
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { newSpanId, newTraceId } from '../src/proxy/tracing/ids.js';
import { encodeSpans } from '../src/proxy/tracing/otlp-json.js';
import { SPAN_KIND_CLIENT, STATUS_UNSET, type FinishedSpan } from '../src/proxy/tracing/span.js';

const require = createRequire(import.meta.url);
const arg = (name: string, fallback: number) => Number(process.argv.find((a, i) => process.argv[i - 1] === `--${name}`) ?? fallback);
const SPANS = arg('spans', 100_000);
const ROUNDS = arg('rounds', 5);
const BATCH = 512;
const RESOURCE = { 'service.name': 'frontend', 'service.namespace': 'default', 'service.instance.id': 'sidecar~bench', 'trellis.workload': 'frontend-v1' };
const PARENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

function attributes(i: number): Record<string, string | number> {
  return {
    'http.request.method': 'GET',
    'url.path': '/items',
    'server.address': 'catalog:8080',
    'http.response.status_code': 200,
    'trellis.direction': 'outbound',
    'trellis.destination.service': 'catalog.default',
    'network.peer.address': `127.0.0.1:${9000 + (i % 4)}`,
  };
}

/** Trellis: what trace-layer.ts and span-exporter.ts do per span, minus the HTTP POST. */
function trellis(n: number): number {
  let bytes = 0;
  let batch: FinishedSpan[] = [];
  const origin = performance.timeOrigin;
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    batch.push({
      traceId: i % 2 === 0 ? PARENT_TRACE : newTraceId(),
      spanId: newSpanId(),
      parentSpanId: PARENT_SPAN,
      traceState: undefined,
      name: 'GET catalog.default',
      kind: SPAN_KIND_CLIENT,
      startMs: origin + start,
      endMs: origin + performance.now(),
      attributes: attributes(i),
      statusCode: STATUS_UNSET,
      statusMessage: undefined,
    });
    if (batch.length === BATCH) {
      bytes += encodeSpans(RESOURCE, batch).length;
      batch = [];
    }
  }
  return bytes;
}

/** The OpenTelemetry SDK: a span per request with a remote parent, batched and serialized to OTLP JSON. */
function otelSetup(): (n: number) => number {
  const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const { TracerProvider } = require('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
  const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');
  let batch: ReadableSpan[] = [];
  let bytes = 0;
  const processor = {
    onStart() {},
    onEnding() {},
    onEnd(span: ReadableSpan) {
      batch.push(span);
      if (batch.length === BATCH) {
        bytes += JsonTraceSerializer.serializeRequest(batch)!.length;
        batch = [];
      }
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const provider = new TracerProvider({ spanProcessors: [processor] });
  const tracer = provider.getTracer('trellis-proxy', '0.1.0');
  const parent = api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: PARENT_TRACE, spanId: PARENT_SPAN, traceFlags: 1, isRemote: true });
  return (n) => {
    bytes = 0;
    for (let i = 0; i < n; i++) {
      const span = tracer.startSpan('GET catalog.default', { kind: api.SpanKind.CLIENT, attributes: attributes(i) }, i % 2 === 0 ? parent : api.ROOT_CONTEXT);
      span.end();
    }
    return bytes;
  };
}

/** Nanoseconds per span over one round of SPANS spans. */
function measure(run: (n: number) => number): number {
  const t0 = process.hrtime.bigint();
  run(SPANS);
  return Number(process.hrtime.bigint() - t0) / SPANS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** RSS a fresh Node.js grows by when it loads `what` (measured in a child process). */
function loadCost(what: 'trellis' | 'otel'): number {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, '--load-only', what], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

if (process.argv[2] === '--load-only') {
  const rss0 = process.memoryUsage().rss;
  if (process.argv[3] === 'otel') {
    require('@opentelemetry/sdk-trace');
    require('@opentelemetry/otlp-transformer');
  } else {
    await import('../src/proxy/tracing/span-exporter.js');
  }
  process.stdout.write(String(process.memoryUsage().rss - rss0));
} else {
  const otel = otelSetup();
  // Warm up both, then interleave rounds.
  trellis(20_000);
  otel(20_000);
  const results = { trellis: [] as number[], otel: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    results.trellis.push(measure(trellis));
    results.otel.push(measure(otel));
  }
  const row = (name: string, xs: number[], rss: number) => `| ${name} | ${(median(xs) / 1000).toFixed(2)} | ${(rss / 1e6).toFixed(1)} |`;
  const t = median(results.trellis);
  const o = median(results.otel);
  console.log(`spans per round: ${SPANS}, rounds: ${ROUNDS}, batch ${BATCH}, Node.js ${process.version}`);
  console.log('| recorder | µs per span (record + OTLP JSON) | RSS to load, MB |');
  console.log('|---|---:|---:|');
  console.log(row('Trellis recorder (src/proxy/tracing)', results.trellis, loadCost('trellis')));
  console.log(row('OpenTelemetry SDK + otlp-transformer', results.otel, loadCost('otel')));
  console.log(`ratio SDK / Trellis: ${(o / t).toFixed(2)}x CPU per span`);
}
