// Decodes an OTLP/HTTP JSON ExportTraceServiceRequest (opentelemetry-proto's JSON mapping)
// into the spans the control plane keeps. Ids must be hex (the JSON mapping's exception to
// base64); times are nanosecond decimal strings or numbers. Every problem names its path.
import type { StoredSpan } from '../../api/telemetry.js';
import { err, ok, type Result } from '../../common/result.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function attrValue(v: unknown): string | number | boolean | undefined {
  if (!isObj(v)) return undefined;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (typeof v.doubleValue === 'number') return v.doubleValue;
  return undefined;
}

function attributes(v: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const a of list(v)) {
    if (!isObj(a) || typeof a.key !== 'string') continue;
    const value = attrValue(a.value);
    if (value !== undefined) out[a.key] = value;
  }
  return out;
}

function nanosToMs(v: unknown): number | undefined {
  if (typeof v === 'number') return v / 1e6;
  if (typeof v === 'string' && /^\d+$/.test(v)) {
    const n = BigInt(v);
    return Number(n / 1000n) / 1000;
  }
  return undefined;
}

/** The spans of an OTLP JSON request body, or every problem with its path. */
export function decodeOtlpJson(body: unknown): Result<StoredSpan[], string[]> {
  const problems: string[] = [];
  const spans: StoredSpan[] = [];
  if (!isObj(body) || !Array.isArray(body.resourceSpans)) return err(['resourceSpans: required, a list']);
  body.resourceSpans.forEach((rs, i) => {
    const rpath = `resourceSpans[${i}]`;
    if (!isObj(rs)) return void problems.push(`${rpath}: must be an object`);
    const resource = attributes(isObj(rs.resource) ? rs.resource.attributes : undefined);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown';
    list(rs.scopeSpans).forEach((ss, j) => {
      if (!isObj(ss)) return void problems.push(`${rpath}.scopeSpans[${j}]: must be an object`);
      list(ss.spans).forEach((s, k) => {
        const path = `${rpath}.scopeSpans[${j}].spans[${k}]`;
        if (!isObj(s)) return void problems.push(`${path}: must be an object`);
        const traceId = typeof s.traceId === 'string' ? s.traceId.toLowerCase() : '';
        const spanId = typeof s.spanId === 'string' ? s.spanId.toLowerCase() : '';
        if (!/^[0-9a-f]{32}$/.test(traceId)) problems.push(`${path}.traceId: must be 32 hex digits, got ${JSON.stringify(s.traceId)}`);
        if (!/^[0-9a-f]{16}$/.test(spanId)) problems.push(`${path}.spanId: must be 16 hex digits, got ${JSON.stringify(s.spanId)}`);
        const parent = typeof s.parentSpanId === 'string' && s.parentSpanId !== '' ? s.parentSpanId.toLowerCase() : undefined;
        if (parent !== undefined && !/^[0-9a-f]{16}$/.test(parent)) problems.push(`${path}.parentSpanId: must be 16 hex digits, got ${JSON.stringify(s.parentSpanId)}`);
        const start = nanosToMs(s.startTimeUnixNano);
        const end = nanosToMs(s.endTimeUnixNano);
        if (start === undefined) problems.push(`${path}.startTimeUnixNano: must be nanoseconds, got ${JSON.stringify(s.startTimeUnixNano)}`);
        if (end === undefined) problems.push(`${path}.endTimeUnixNano: must be nanoseconds, got ${JSON.stringify(s.endTimeUnixNano)}`);
        if (problems.length > 0 || start === undefined || end === undefined) return;
        spans.push({
          traceId,
          spanId,
          ...(parent !== undefined ? { parentSpanId: parent } : {}),
          name: typeof s.name === 'string' ? s.name : '',
          kind: typeof s.kind === 'number' ? s.kind : 0,
          service,
          startUnixMs: start,
          endUnixMs: end,
          statusCode: isObj(s.status) && typeof s.status.code === 'number' ? s.status.code : 0,
          attributes: attributes(s.attributes),
        });
      });
    });
  });
  return problems.length > 0 ? err(problems.slice(0, 20)) : ok(spans);
}
