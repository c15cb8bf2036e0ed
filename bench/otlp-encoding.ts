// What a span costs in each OTLP protocol, per span, in the same run, rounds interleaved:
// the proxy's encoders (http/json: the hand-written OTLP JSON, src/proxy/tracing/otlp-json.ts;
// http/protobuf and grpc: the same protobuf bytes from OpenTelemetry JS's own serializer,
// src/proxy/tracing/otlp-protobuf.ts; gRPC adds a 5-byte frame) and the control plane's side
// (its receiver decoding each encoding into the spans it keeps, and its forwarder re-encoding
// OTLP JSON as protobuf with protobufjs on the vendored OpenTelemetry protos,
// src/otlp/otlp-protos.ts). Medians of µs per span, bytes per span, and the RSS that loading each
// encoder costs a fresh Node.js (for the vendored protos, one that already has protobufjs, as
// both planes do). Encoding runs off the request path, once per batch.
//   npx tsc -p tsconfig.json && node dist/bench/otlp-encoding.js [--spans 100000] [--rounds 7]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { newSpanId } from '../src/proxy/tracing/ids.js';
import { decodeOtlpJson } from '../src/control-plane/telemetry/otlp-decode.js';
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
  const which = process.argv[loadArg + 1];
  if (which === 'protos') await import('protobufjs');
  const before = process.memoryUsage().rss;
  if (which === 'protobuf') await import('../src/proxy/tracing/otlp-protobuf.js');
  else if (which === 'protos') (await import('../src/otlp/otlp-protos.js')).otlpJsonToProtobuf({ resourceSpans: [] });
  else await import('../src/proxy/tracing/otlp-json.js');
  console.log(process.memoryUsage().rss - before);
} else {
  const { encodeSpansProtobuf } = await import('../src/proxy/tracing/otlp-protobuf.js');
  const { otlpJsonToProtobuf, otlpProtobufToJson } = await import('../src/otlp/otlp-protos.js');
  const spans = batch();
  const jsonText = encodeSpans(RESOURCE, spans);
  const protobufBytes = encodeSpansProtobuf(RESOURCE, spans);
  const kept = (r: ReturnType<typeof decodeOtlpJson>) => {
    if (!r.ok || r.value.length !== BATCH) throw new Error(`decoded ${r.ok ? r.value.length : r.error.join('; ')} spans, not ${BATCH}`);
    return { length: 0 };
  };
  const must = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };
  const cases = {
    json: { name: 'proxy, http/json: OTLP JSON by hand (otlp-json.ts)', run: (s: FinishedSpan[]) => encodeSpans(RESOURCE, s), load: 'json' },
    protobuf: {
      name: "proxy, http/protobuf and grpc: OpenTelemetry JS's serializer (otlp-protobuf.ts)",
      run: (s: FinishedSpan[]) => encodeSpansProtobuf(RESOURCE, s),
      load: 'protobuf',
    },
    receiveJson: { name: 'control plane, receiving http/json: JSON.parse + decodeOtlpJson', run: () => kept(decodeOtlpJson(JSON.parse(jsonText))), load: undefined },
    receiveProtobuf: {
      name: 'control plane, receiving http/protobuf: vendored protos (otlp-protos.ts) + decodeOtlpJson',
      run: () => kept(decodeOtlpJson(must(otlpProtobufToJson(protobufBytes)))),
      load: 'protos',
    },
    forwardProtobuf: {
      name: 'control plane, forwarding JSON it got as protobuf: JSON.parse + vendored protos',
      run: () => must(otlpJsonToProtobuf(JSON.parse(jsonText))),
      load: undefined,
    },
  } as const;
  type Case = keyof typeof cases;
  const keys = Object.keys(cases) as Case[];
  // Warm-up, then interleaved rounds so machine load falls on all alike.
  for (const k of keys) measure(cases[k].run, spans);
  const ns = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<Case, number[]>;
  const size = Object.fromEntries(keys.map((k) => [k, 0])) as Record<Case, number>;
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of keys) {
      const [t, b] = measure(cases[k].run, spans);
      ns[k].push(t);
      size[k] = b;
    }
  }
  console.log(`spans per round: ${SPANS}, rounds: ${ROUNDS}, batch ${BATCH}, Node.js ${process.version}`);
  console.log('| what | µs per span (median) | bytes per span | RSS to load, MB |');
  console.log('|---|---:|---:|---:|');
  for (const k of keys) {
    const c = cases[k];
    console.log(
      `| ${c.name} | ${(median(ns[k]) / 1000).toFixed(3)} | ${size[k] > 0 ? size[k].toFixed(0) : '–'} | ${c.load !== undefined ? (loadCost(c.load) / 1e6).toFixed(1) : '–'} |`,
    );
  }
  console.log(`ratio protobuf / JSON (proxy): ${(median(ns.protobuf) / median(ns.json)).toFixed(2)}x CPU per span, ${(size.protobuf / size.json).toFixed(2)}x bytes`);
  console.log(`ratio protobuf / JSON (control plane receiving): ${(median(ns.receiveProtobuf) / median(ns.receiveJson)).toFixed(2)}x CPU per span`);
}
