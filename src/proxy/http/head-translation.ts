// Translating request and response heads between HTTP/1.1 and HTTP/2, for a client and an
// upstream that speak different versions (the app's declared appProtocol): pseudo-headers to and
// from the request line and Host, hop-by-hop fields dropped (RFC 9110 7.6.1, RFC 9113 8.2.2),
// `te: trailers` kept (gRPC needs it), Content-Length kept where the other side can use it.
import type http2 from 'node:http2';
import { err, ok, type Result } from '../../common/result.js';
import { REWRITTEN_HEADERS, type UpstreamEdit } from './upstream-headers.js';

/** Connection-specific fields: meaningful on one HTTP/1.1 connection only, malformed in HTTP/2. */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);
/** A `te` value naming `trailers`, the one value HTTP/2 allows. */
const TE_TRAILERS = /(?:^|,)\s*trailers\s*(?:$|[,;])/i;

/**
 * The HTTP/2 request headers for an HTTP/1.1 request: `:method`, `:path`, `:scheme`, and
 * `:authority` from `authority` (the Host, or the absolute-form target's); Host, Expect and the
 * connection-specific fields (and those Connection lists) dropped; `te` kept as `trailers` only.
 * A request with both Content-Length and Transfer-Encoding is refused (it is ambiguous, RFC 9112 6.3).
 * With `extra` headers (trace context, source identity) the REWRITTEN_HEADERS are not copied; `edit` removes and adds fields.
 */
export function h2RequestFromH1(
  method: string,
  path: string,
  rawHeaders: readonly string[],
  authority: string,
  extra?: readonly string[],
  edit?: UpstreamEdit,
): Result<http2.OutgoingHttpHeaders, string> {
  const out: http2.OutgoingHttpHeaders = { ':method': method, ':path': path, ':scheme': 'http', ':authority': authority };
  const listed = connectionListed(rawHeaders);
  let length = false;
  let chunked = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (name === 'content-length') length = true;
    else if (name === 'transfer-encoding') chunked = true;
    if (name === 'te') {
      if (TE_TRAILERS.test(value)) out['te'] = 'trailers';
      continue;
    }
    if (name === 'host' || name === 'expect' || CONNECTION_SPECIFIC.has(name) || listed?.has(name)) continue;
    if (extra !== undefined && REWRITTEN_HEADERS.has(name)) continue;
    if (edit !== undefined && edit.removed.has(name)) continue;
    append(out, name, value);
  }
  if (length && chunked) return err('both content-length and transfer-encoding are present');
  if (extra !== undefined) for (let i = 0; i < extra.length; i += 2) append(out, extra[i]!.toLowerCase(), extra[i + 1]!);
  if (edit !== undefined) for (let i = 0; i < edit.added.length; i += 2) append(out, edit.added[i]!, edit.added[i + 1]!);
  return ok(out);
}

/**
 * The header fields (flat `[name, value, ...]`) of an HTTP/1.1 request for an HTTP/2 one,
 * without pseudo-headers and Host (the caller writes the request line and Host from
 * `:method`, `:path`, `:authority`). A body without Content-Length goes chunked. A
 * connection-specific field, or `te` other than `trailers`, makes the request malformed
 * (RFC 9113 8.2.2): refused, not cleaned up.
 */
export function h1FieldsFromH2(headers: http2.IncomingHttpHeaders, hasBody: boolean): Result<string[], string> {
  const out: string[] = [];
  let length = false;
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */ || name === 'host') continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (CONNECTION_SPECIFIC.has(name)) return err(`connection-specific header field ${name} in an HTTP/2 request`);
    if (name === 'te' && !/^\s*trailers\s*$/i.test(String(value))) return err(`te: ${String(value)} in an HTTP/2 request (only "trailers" is allowed)`);
    if (name === 'content-length') length = true;
    // Cookie may come split in several fields; HTTP/1.1 wants one (RFC 9113 8.2.3).
    if (Array.isArray(value)) {
      if (name === 'cookie') out.push(name, value.join('; '));
      else for (const v of value) out.push(name, v);
    } else out.push(name, value);
  }
  if (hasBody && !length) out.push('transfer-encoding', 'chunked');
  return ok(out);
}

/** The header fields of an HTTP/1.1 response for an HTTP/2 response head (or trailers): pseudo-headers dropped. */
export function h1FieldsFromH2Response(headers: http2.IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 || CONNECTION_SPECIFIC.has(name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return out;
}

/**
 * The HTTP/2 response headers for an HTTP/1.1 response head (flat fields): `:status`, names in
 * lower case, the connection-specific fields (and those Connection lists) dropped. Pass no
 * status for trailers.
 */
export function h2FieldsFromH1(status: number | undefined, fields: readonly string[]): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = status === undefined ? {} : { ':status': status };
  const listed = connectionListed(fields);
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!.toLowerCase();
    if (CONNECTION_SPECIFIC.has(name) || listed?.has(name)) continue;
    append(out, name, fields[i + 1]!);
  }
  return out;
}

function append(out: http2.OutgoingHttpHeaders, name: string, value: string): void {
  const old = out[name];
  out[name] = old === undefined ? value : Array.isArray(old) ? [...old, value] : [String(old), value];
}

/** Field names a Connection header lists (besides close and keep-alive); undefined when none. */
function connectionListed(fields: readonly string[]): Set<string> | undefined {
  let listed: Set<string> | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i]!.length !== 10 || fields[i]!.toLowerCase() !== 'connection') continue;
    for (const token of fields[i + 1]!.toLowerCase().split(',')) {
      const t = token.trim();
      if (t !== '' && t !== 'close' && t !== 'keep-alive') (listed ??= new Set()).add(t);
    }
  }
  return listed;
}
