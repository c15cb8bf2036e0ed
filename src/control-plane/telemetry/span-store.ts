// The recent spans the control plane received, grouped by trace, oldest traces evicted first
// once more than `maxTraces` are held or a trace grows past `maxSpansPerTrace`.
import type { StoredSpan, TraceSummary } from '../../api/telemetry.js';

export class SpanStore {
  /** Insertion order is age order: the first key is the oldest trace. */
  private readonly traces = new Map<string, StoredSpan[]>();
  received = 0;
  dropped = 0;

  constructor(
    private readonly maxTraces = 2000,
    private readonly maxSpansPerTrace = 500,
  ) {}

  add(spans: readonly StoredSpan[]): void {
    for (const s of spans) {
      this.received++;
      let t = this.traces.get(s.traceId);
      if (t === undefined) {
        this.traces.set(s.traceId, (t = []));
        if (this.traces.size > this.maxTraces) {
          const oldest = this.traces.keys().next().value!;
          this.dropped += this.traces.get(oldest)!.length;
          this.traces.delete(oldest);
        }
      }
      if (t.length >= this.maxSpansPerTrace) {
        this.dropped++;
        continue;
      }
      t.push(s);
    }
  }

  /** The spans of one trace, by start time. */
  trace(traceId: string): StoredSpan[] | undefined {
    const t = this.traces.get(traceId.toLowerCase());
    return t === undefined ? undefined : [...t].sort((a, b) => a.startUnixMs - b.startUnixMs);
  }

  /** One trace's summary (whether it is one tree yet), or undefined when not held. */
  summary(traceId: string): TraceSummary | undefined {
    const id = traceId.toLowerCase();
    const spans = this.traces.get(id);
    return spans === undefined ? undefined : summarize(id, spans, [...new Set(spans.map((s) => s.service))]);
  }

  /** The newest traces first, optionally only those with a span of `service` (name or name.namespace). */
  list(limit: number, service?: string): TraceSummary[] {
    const out: TraceSummary[] = [];
    const ids = [...this.traces.keys()].reverse();
    for (const id of ids) {
      if (out.length >= limit) break;
      const spans = this.traces.get(id)!;
      const services = [...new Set(spans.map((s) => s.service))];
      if (service !== undefined && !services.some((x) => x === service || service.startsWith(x + '.'))) continue;
      out.push(summarize(id, spans, services));
    }
    return out;
  }
}

function summarize(traceId: string, spans: readonly StoredSpan[], services: string[]): TraceSummary {
  const ids = new Set(spans.map((s) => s.spanId));
  // The root: a span whose parent is not in the trace (the earliest such one).
  const roots = spans.filter((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId)).sort((a, b) => a.startUnixMs - b.startUnixMs);
  const root = roots[0] ?? spans[0]!;
  const start = Math.min(...spans.map((s) => s.startUnixMs));
  const end = Math.max(...spans.map((s) => s.endUnixMs));
  return {
    traceId,
    rootName: root.name,
    rootService: root.service,
    startUnixMs: start,
    durationMs: Math.round((end - start) * 1000) / 1000,
    spans: spans.length,
    errors: spans.filter((s) => s.statusCode === 2).length,
    services,
    roots: roots.length,
    complete: roots.length === 1,
  };
}
