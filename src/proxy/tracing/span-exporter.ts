// Exports finished spans in batches, off the request path: record() only appends to a bounded
// queue per collector and protocol; a timer or a full batch flushes. The protocol is one of
// OTEL_EXPORTER_OTLP_PROTOCOL's values, chosen per listener by the MeshConfig: http/json (POST
// {collector}/v1/traces), http/protobuf (the same with application/x-protobuf) or grpc
// (TraceService/Export); the protobuf encoder and grpc-js are loaded only when chosen. A
// collector that is down, slow or refusing (HTTP status, gRPC status) costs dropped spans
// (counted, logged), never request latency.
import tls from 'node:tls';
import type { OtlpProtocol } from '../../api/telemetry.js';
import type { Logger } from '../../common/log.js';
import { exportOtlp } from '../../otlp/otlp-export.js';
import type { CollectorTls } from '../../otlp/otlp-http.js';
import { encodeSpans } from './otlp-json.js';
import type { FinishedSpan, SpanResource } from './span.js';

export interface SpanExporterOptions {
  resource: SpanResource;
  /** How batches are sent when record() does not say (default http/json). */
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
  /** Queued spans by protocol, then collector. */
  private readonly queues = new Map<OtlpProtocol, Map<string, FinishedSpan[]>>();
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

  /**
   * Queues `span` for `collector`: a base URL such as http://127.0.0.1:15000 (for grpc, the
   * endpoint, e.g. http://otel:4317), or `unix:PATH` (plain HTTP over that socket), sent by `protocol`.
   */
  record(collector: string, span: FinishedSpan, protocol: OtlpProtocol = this.opts.protocol ?? 'http/json'): void {
    let byCollector = this.queues.get(protocol);
    if (byCollector === undefined) this.queues.set(protocol, (byCollector = new Map<string, FinishedSpan[]>()));
    let q = byCollector.get(collector);
    if (q === undefined) byCollector.set(collector, (q = []));
    if (q.length >= this.maxQueue) {
      this.counts.dropped++;
      return;
    }
    q.push(span);
    if (q.length >= this.maxBatch) this.send(collector, protocol, q.splice(0, this.maxBatch));
  }

  /** Sends everything queued now; resolves when those requests are over. */
  async flush(): Promise<void> {
    for (const [protocol, byCollector] of this.queues) for (const [collector, q] of byCollector) while (q.length > 0) this.send(collector, protocol, q.splice(0, this.maxBatch));
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

  private async deliver(collector: string, protocol: OtlpProtocol, spans: FinishedSpan[]): Promise<void> {
    if (protocol === 'http/json') return exportOtlp(collector, protocol, encodeSpans(this.opts.resource, spans), this.tlsOptions());
    const { encodeSpansProtobuf } = await import('./otlp-protobuf.js');
    return exportOtlp(collector, protocol, encodeSpansProtobuf(this.opts.resource, spans), this.tlsOptions());
  }

  private send(collector: string, protocol: OtlpProtocol, spans: FinishedSpan[]): void {
    const p = this.deliver(collector, protocol, spans)
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
