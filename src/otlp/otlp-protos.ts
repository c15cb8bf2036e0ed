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
export function otlpProtoDir(): string {
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

/** Rewrites every id field of `v` in place with `convert`; the first id it cannot convert is returned with its path. */
function convertIds(v: unknown, convert: (id: string) => string | Uint8Array | undefined, at: string): string | undefined {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = convertIds(v[i], convert, `${at}[${i}]`);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return undefined;
  const o = v as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    const path = at === '' ? key : `${at}.${key}`;
    const value = o[key];
    if (ID_FIELDS.has(key) && typeof value === 'string') {
      const id = convert(value);
      if (id === undefined) return `${path}: must be hex, got ${JSON.stringify(value)}`;
      o[key] = id;
    } else {
      const bad = convertIds(value, convert, path);
      if (bad !== undefined) return bad;
    }
  }
  return undefined;
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
  const json = type.toObject(message, { longs: String, enums: Number, bytes: String, arrays: true });
  convertIds(json, (b64) => Buffer.from(b64, 'base64').toString('hex'), '');
  return ok(json);
}

/** OTLP JSON's object form (as JSON.parse gives it) as ExportTraceServiceRequest bytes, or what is wrong with it. Ids must be hex. */
export function otlpJsonToProtobuf(json: unknown): Result<Uint8Array, string> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return err('an ExportTraceServiceRequest must be an object');
  const copy = structuredClone(json);
  const bad = convertIds(copy, (hex) => (/^(?:[0-9a-fA-F]{2})*$/.test(hex) ? Buffer.from(hex, 'hex') : undefined), '');
  if (bad !== undefined) return err(bad);
  const type = exportRequest();
  try {
    return ok(type.encode(type.fromObject(copy)).finish());
  } catch (e) {
    return err(`not an ExportTraceServiceRequest: ${(e as Error).message}`);
  }
}
