// Exports finished spans in batches, off the request path: record() only appends to a bounded
// queue; a timer or a full batch flushes. The protocol is OpenTelemetry's
// OTEL_EXPORTER_OTLP_PROTOCOL choice: http/json (POST {collector}/v1/traces, the default),
// http/protobuf (the same with application/x-protobuf) or grpc (TraceService/Export); the
// protobuf encoder and grpc-js are loaded only when chosen. A collector that is down, slow or
// refusing (HTTP status, gRPC status) costs dropped spans (counted, logged), never request latency.
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { http, https } from '../../common/node-http.js';
import tls from 'node:tls';
import type { Logger } from '../../common/log.js';
import { encodeSpans } from './otlp-json.js';
import type { FinishedSpan, SpanResource } from './span.js';

/** OTEL_EXPORTER_OTLP_PROTOCOL's values. */
export const OTLP_PROTOCOLS = ['http/json', 'http/protobuf', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export interface SpanExporterOptions {
  resource: SpanResource;
  /** How batches are sent (default http/json); a `unix:` collector (the control plane's receiver) always gets http/json. */
  protocol?: OtlpProtocol;
  /** Most spans held per collector before new ones are dropped (default 2048). */
  maxQueue?: number;
  /** Spans per request (default 512). */
  maxBatch?: number;
  /** How often queued spans are sent (default 1000 ms). */
  intervalMs?: number;
  /** Extra roots (PEM) for https collectors: the mesh's, so the control plane's receiver verifies. */
  ca?: string;
  /**
   * The workload's certificate and key (and the mesh roots delivered with them), presented to
   * https collectors: the control plane's receiver takes spans only from mesh workloads.
   */
  clientTls?: () => { key?: tls.SecureContextOptions['key']; cert?: tls.SecureContextOptions['cert']; ca?: tls.SecureContextOptions['ca'] } | undefined;
  logger?: Logger;
}

/** Counts of what happened to spans, for /metrics. */
export interface SpanExportCounts {
  exported: number;
  dropped: number;
  failedRequests: number;
}

export class SpanExporter {
  readonly counts: SpanExportCounts = { exported: 0, dropped: 0, failedRequests: 0 };
  private readonly queues = new Map<string, FinishedSpan[]>();
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly timer: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  private lastWarning = 0;

  constructor(private readonly opts: SpanExporterOptions) {
    this.maxQueue = opts.maxQueue ?? 2048;
    this.maxBatch = opts.maxBatch ?? 512;
    // flush() does not reject: send() catches every request's failure.
    this.timer = setInterval(() => void this.flush(), opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** Queues `span` for `collector`: a base URL such as http://127.0.0.1:15000, or `unix:PATH` (plain HTTP over that socket). */
  record(collector: string, span: FinishedSpan): void {
    let q = this.queues.get(collector);
    if (q === undefined) this.queues.set(collector, (q = []));
    if (q.length >= this.maxQueue) {
      this.counts.dropped++;
      return;
    }
    q.push(span);
    if (q.length >= this.maxBatch) this.send(collector, q.splice(0, this.maxBatch));
  }

  /** Sends everything queued now; resolves when those requests are over. */
  async flush(): Promise<void> {
    for (const [collector, q] of this.queues) while (q.length > 0) this.send(collector, q.splice(0, this.maxBatch));
    await Promise.all([...this.inFlight]);
  }

  /** Flushes, then stops the timer. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private tlsOptions(): CollectorTls {
    const mine = this.opts.clientTls?.();
    const meshRoots = [this.opts.ca, mine?.ca].flat().filter((c): c is string | Buffer => c !== undefined);
    return {
      ...(meshRoots.length > 0 ? { ca: [...tls.rootCertificates, ...meshRoots] } : {}),
      ...(mine?.key !== undefined && mine.cert !== undefined ? { key: mine.key, cert: mine.cert } : {}),
    };
  }

  private async deliver(collector: string, spans: FinishedSpan[]): Promise<void> {
    const protocol = this.opts.protocol ?? 'http/json';
    // The control plane's own receiver (a unix: socket) takes JSON.
    if (protocol === 'http/json' || collector.startsWith('unix:')) return post(collector, encodeSpans(this.opts.resource, spans), 'application/json', this.tlsOptions());
    const { encodeSpansProtobuf } = await import('./otlp-protobuf.js');
    const body = encodeSpansProtobuf(this.opts.resource, spans);
    if (protocol === 'http/protobuf') return post(collector, body, 'application/x-protobuf', this.tlsOptions());
    const { exportOverGrpc } = await import('./otlp-grpc.js');
    return exportOverGrpc(collector, body, this.tlsOptions());
  }

  private send(collector: string, spans: FinishedSpan[]): void {
    const p = this.deliver(collector, spans)
      .then(() => {
        this.counts.exported += spans.length;
      })
      .catch((e: Error) => {
        this.counts.failedRequests++;
        this.counts.dropped += spans.length;
        const now = Date.now();
        if (now - this.lastWarning > 10_000) {
          this.lastWarning = now;
          this.opts.logger?.warn({ collector, spans: spans.length, reason: e.message }, `could not export spans to ${collector}: ${e.message}`);
        }
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}

/** TLS options for an https collector: system roots plus the mesh's, and the workload's certificate. */
type CollectorTls = Pick<Https.RequestOptions, 'ca' | 'key' | 'cert'>;

/** POST {collector}/v1/traces; a `unix:PATH` collector is plain HTTP over that socket (its permissions are the trust boundary). */
function post(collector: string, body: string | Uint8Array, contentType: string, tlsOptions: CollectorTls): Promise<void> {
  return new Promise((resolve, reject) => {
    const options: Http.RequestOptions = { method: 'POST', headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }, timeout: 5000 };
    const onResponse = (res: Http.IncomingMessage) => {
      res.resume();
      res.on('end', () => (res.statusCode !== undefined && res.statusCode < 300 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    };
    let req: Http.ClientRequest;
    if (collector.startsWith('unix:')) req = http.request({ ...options, socketPath: collector.slice('unix:'.length), path: '/v1/traces' }, onResponse);
    else {
      const url = new URL(`${collector.replace(/\/+$/, '')}/v1/traces`);
      req = url.protocol === 'https:' ? https.request(url, { ...options, ...tlsOptions }, onResponse) : http.request(url, options, onResponse);
    }
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end(body);
  });
}
