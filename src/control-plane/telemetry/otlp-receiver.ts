// The control plane's OTLP/HTTP trace receiver (POST /v1/traces): a JSON body
// (application/json) or a protobuf one (application/x-protobuf, decoded with the OpenTelemetry
// protos into the same JSON form), at most MAX_OTLP_BYTES; the spans are kept and, when
// configured, forwarded to a collector by the chosen protocol, re-encoded only when the
// encodings differ. A bad body is a 400 naming what was wrong.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OtlpProtocol } from '../../api/telemetry.js';
import type { Logger } from '../../common/log.js';
import { exportOtlp } from '../../otlp/otlp-export.js';
import type { CollectorTls } from '../../otlp/otlp-http.js';
import { otlpJsonToProtobuf, otlpProtobufToJson } from '../../otlp/otlp-protos.js';
import { decodeOtlpJson } from './otlp-decode.js';
import type { SpanStore } from './span-store.js';

/** Where received spans are also sent. */
export interface SpanForwarding {
  /** The collector's base URL (for grpc, its endpoint, e.g. http://otel:4317). */
  to: string;
  protocol: OtlpProtocol;
  tls?: CollectorTls;
}

export const MAX_OTLP_BYTES = 8 * 1024 * 1024;

const JSON_TYPE = 'application/json';
const PROTOBUF_TYPE = 'application/x-protobuf';

/** A received request in the encoding it came in, and as OTLP JSON's object form. */
interface Received {
  json: Record<string, unknown>;
  text?: string;
  bytes?: Uint8Array;
}

function problem(res: ServerResponse, status: number, code: string, message: string): void {
  const data = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

/** Parses a whole body of `type`; the problem says what was wrong with it. */
function parse(type: string, body: Buffer): { ok: true; value: Received } | { ok: false; error: string } {
  if (type === PROTOBUF_TYPE) {
    const r = otlpProtobufToJson(body);
    return r.ok ? { ok: true, value: { json: r.value, bytes: body } } : r;
  }
  const text = body.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `the body is not JSON: ${(e as Error).message}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, error: 'not a valid ExportTraceServiceRequest: resourceSpans: required, a list' };
  return { ok: true, value: { json: json as Record<string, unknown>, text } };
}

/** Answers one POST /v1/traces. */
export function receiveSpans(store: SpanStore, req: IncomingMessage, res: ServerResponse, forwarding?: SpanForwarding, logger?: Logger): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== JSON_TYPE && type !== PROTOBUF_TYPE) {
    req.resume();
    return problem(
      res,
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `content-type ${type || '(none)'} is not supported: the receiver takes OTLP/HTTP JSON (${JSON_TYPE}) or protobuf (${PROTOBUF_TYPE})`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= MAX_OTLP_BYTES) chunks.push(c);
  });
  req.on('end', () => {
    if (size > MAX_OTLP_BYTES) return problem(res, 413, 'TOO_LARGE', `the request has ${size} bytes; at most ${MAX_OTLP_BYTES} are taken`);
    const received = parse(type, Buffer.concat(chunks));
    if (!received.ok) return problem(res, 400, 'BAD_REQUEST', received.error);
    const spans = decodeOtlpJson(received.value.json);
    if (!spans.ok) return problem(res, 400, 'BAD_REQUEST', `not a valid ExportTraceServiceRequest: ${spans.error.join('; ')}`);
    store.add(spans.value);
    if (forwarding !== undefined) forward(forwarding, received.value, logger);
    // OTLP/HTTP: a full success is an empty ExportTraceServiceResponse in the request's encoding.
    if (type === PROTOBUF_TYPE) res.writeHead(200, { 'content-type': PROTOBUF_TYPE, 'content-length': 0 }).end();
    else res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': 2 }).end('{}');
  });
}

/** The request in the encoding `protocol` sends: as received when it matches, else re-encoded. */
function encodeFor(protocol: OtlpProtocol, r: Received): { ok: true; value: string | Uint8Array } | { ok: false; error: string } {
  if (protocol === 'http/json') return { ok: true, value: r.text ?? JSON.stringify(r.json) };
  return r.bytes !== undefined ? { ok: true, value: r.bytes } : otlpJsonToProtobuf(r.json);
}

function forward(f: SpanForwarding, r: Received, logger: Logger | undefined): void {
  const body = encodeFor(f.protocol, r);
  if (!body.ok) return void logger?.warn({ collector: f.to, reason: body.error }, `could not forward spans to ${f.to}: ${body.error}`);
  exportOtlp(f.to, f.protocol, body.value, f.tls ?? {}).catch((e: Error) =>
    logger?.warn({ collector: f.to, protocol: f.protocol, reason: e.message }, `could not forward spans to ${f.to} (${f.protocol}): ${e.message}`),
  );
}
