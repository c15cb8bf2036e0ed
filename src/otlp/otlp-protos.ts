// The OpenTelemetry project's own OTLP trace protos (vendored unchanged under protos/opentelemetry,
// see its README), loaded with protobufjs once per process on first use: ExportTraceServiceRequest
// bytes turned into OTLP's JSON form and back. The JSON form is opentelemetry-proto's JSON
// mapping (ids as hex, 64-bit integers as decimal strings, enums as numbers), so one decoder
// (the control plane's otlp-decode.ts) reads both encodings. A sidecar never loads this module.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { err, ok, type Result } from '../common/result.js';

const REQUEST = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest';
/** Fields that are bytes on the wire and hex in OTLP JSON (Span and Span.Link ids). */
const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** The folder the vendored protos' import paths (opentelemetry/proto/...) start from; this module runs from src/otlp or dist/src/otlp. */
function otlpProtoDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '../../..') : path.resolve(here, '../..');
  return path.join(root, 'protos');
}

let requestType: protobuf.Type | undefined;

function exportRequest(): protobuf.Type {
  if (requestType !== undefined) return requestType;
  const dir = otlpProtoDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(dir, target);
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false });
  root.resolveAll();
  return (requestType = root.lookupType(REQUEST));
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Rewrites every hex id field of `v` in place as bytes; the first id that is not hex is returned with its path. */
function idsToBytes(v: unknown, at: string): string | undefined {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = idsToBytes(v[i], `${at}[${i}]`);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return undefined;
  const o = v as Record<string, unknown>;
  for (const key in o) {
    const value = o[key];
    if (typeof value !== 'object' && !(ID_FIELDS.has(key) && typeof value === 'string')) continue;
    const path = at === '' ? key : `${at}.${key}`;
    if (ID_FIELDS.has(key) && typeof value === 'string') {
      if (!HEX.test(value)) return `${path}: must be hex, got ${JSON.stringify(value)}`;
      o[key] = Buffer.from(value, 'hex');
    } else {
      const bad = idsToBytes(value, path);
      if (bad !== undefined) return bad;
    }
  }
  return undefined;
}

type Obj = Record<string, unknown>;
const each = (v: unknown, f: (o: Obj) => void): void => {
  if (Array.isArray(v)) for (const o of v) if (typeof o === 'object' && o !== null) f(o as Obj);
};
const text = (b: Uint8Array, encoding: 'hex' | 'base64') => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString(encoding);

/** AnyValue: bytesValue as base64, also inside arrays and key-value lists. */
function anyValueBytes(v: unknown): void {
  if (typeof v !== 'object' || v === null) return;
  const o = v as Obj;
  if (o.bytesValue instanceof Uint8Array) o.bytesValue = text(o.bytesValue, 'base64');
  if (typeof o.arrayValue === 'object' && o.arrayValue !== null) each((o.arrayValue as Obj).values, anyValueBytes);
  if (typeof o.kvlistValue === 'object' && o.kvlistValue !== null) each((o.kvlistValue as Obj).values, (kv) => anyValueBytes(kv.value));
}
const attributeBytes = (list: unknown) => each(list, (kv) => anyValueBytes(kv.value));
function idsToHex(o: Obj): void {
  for (const key of ID_FIELDS) if (o[key] instanceof Uint8Array) o[key] = text(o[key], 'hex');
}

/**
 * Replaces, in place, the bytes protobufjs decoded as OTLP JSON has them: span and link ids as
 * hex, AnyValue.bytesValue as base64. Walks only where the protos have bytes.
 */
function bytesToJson(request: Obj): void {
  each(request.resourceSpans, (rs) => {
    if (typeof rs.resource === 'object' && rs.resource !== null) attributeBytes((rs.resource as Obj).attributes);
    each(rs.scopeSpans, (ss) => {
      if (typeof ss.scope === 'object' && ss.scope !== null) attributeBytes((ss.scope as Obj).attributes);
      each(ss.spans, (span) => {
        idsToHex(span);
        attributeBytes(span.attributes);
        each(span.events, (e) => attributeBytes(e.attributes));
        each(span.links, (l) => (idsToHex(l), attributeBytes(l.attributes)));
      });
    });
  });
}

/** An ExportTraceServiceRequest's bytes as OTLP JSON's object form, or what is wrong with them. */
export function otlpProtobufToJson(bytes: Uint8Array): Result<Record<string, unknown>, string> {
  const type = exportRequest();
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (e) {
    return err(`not an ExportTraceServiceRequest in protobuf: ${(e as Error).message}`);
  }
  const json = type.toObject(message, { longs: String, enums: Number, arrays: true });
  bytesToJson(json);
  return ok(json);
}

/** OTLP JSON's object form (as JSON.parse gives it) as ExportTraceServiceRequest bytes, or what is wrong with it. Ids must be hex. */
export function otlpJsonToProtobuf(json: unknown): Result<Uint8Array, string> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return err('an ExportTraceServiceRequest must be an object');
  const copy = structuredClone(json);
  const bad = idsToBytes(copy, '');
  if (bad !== undefined) return err(bad);
  const type = exportRequest();
  try {
    return ok(type.encode(type.fromObject(copy)).finish());
  } catch (e) {
    return err(`not an ExportTraceServiceRequest: ${(e as Error).message}`);
  }
}
