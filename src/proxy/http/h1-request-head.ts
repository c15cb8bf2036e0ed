// Writes the upstream HTTP/1.1 request head as one string from the downstream request's raw
// headers, leaving out hop-by-hop fields (Connection and the fields it lists, Keep-Alive,
// Proxy-Connection, TE except `trailers`, Transfer-Encoding, Upgrade) and Expect (node:http
// already answered `100 Continue` to the client). Header values were validated by node's parser.
// With `extra` headers (trace context, source identity), the REWRITTEN_HEADERS are not copied;
// an `edit` (the JWT layer's) removes and adds fields.
// An Upgrade request (WebSocket) gets its Upgrade field back with `connection: upgrade`.
import { REWRITTEN_HEADERS, type UpstreamEdit } from './upstream-headers.js';

/** How the request body travels upstream. */
export const enum BodyFraming {
  None = 0,
  /** Content-Length, passed through unchanged. */
  Length = 1,
  /** Re-chunked: the downstream was chunked, node:http hands us decoded data. */
  Chunked = 2,
}

export interface H1RequestHead {
  readonly head: string;
  readonly framing: BodyFraming;
}

/**
 * The head for `method path` with `rawHeaders`. `authority` replaces the Host header when
 * `overrideHost` (absolute-form target), and is added when the client sent no Host. `upgrade`:
 * the protocol of an Upgrade request the proxy passes on.
 */
export function buildH1RequestHead(
  method: string,
  path: string,
  rawHeaders: readonly string[],
  authority: string,
  overrideHost: boolean,
  extra?: readonly string[],
  upgrade?: string,
  edit?: UpstreamEdit,
): H1RequestHead {
  const listed = connectionListed(rawHeaders);
  let head = method + ' ' + path + ' HTTP/1.1\r\n';
  let framing = BodyFraming.None;
  let sawHost = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    // Only names of these lengths can be special; the rest are copied without lower-casing.
    switch (name.length) {
      case 2:
        if (name.toLowerCase() === 'te') {
          if (/(?:^|,)\s*trailers\s*(?:$|[,;])/i.test(value)) head += 'te: trailers\r\n';
          continue;
        }
        break;
      case 4:
        if (name.toLowerCase() === 'host') {
          sawHost = true;
          if (overrideHost) {
            head += 'host: ' + authority + '\r\n';
            continue;
          }
        }
        break;
      case 6:
        if (name.toLowerCase() === 'expect') continue;
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') continue;
        break;
      case 10: {
        const lower = name.toLowerCase();
        if (lower === 'connection' || lower === 'keep-alive') continue;
        break;
      }
      case 14:
        if (name.toLowerCase() === 'content-length' && framing === BodyFraming.None && value !== '0') framing = BodyFraming.Length;
        break;
      case 16:
        if (name.toLowerCase() === 'proxy-connection') continue;
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          framing = BodyFraming.Chunked;
          continue;
        }
        break;
    }
    if (listed !== undefined && listed.includes(name.toLowerCase())) continue;
    if (extra !== undefined && REWRITTEN_HEADERS.has(name.toLowerCase())) continue;
    if (edit !== undefined && edit.removed.has(name.toLowerCase())) continue;
    head += name + ': ' + value + '\r\n';
  }
  if (extra !== undefined) for (let i = 0; i < extra.length; i += 2) head += extra[i]! + ': ' + extra[i + 1]! + '\r\n';
  if (edit !== undefined) for (let i = 0; i < edit.added.length; i += 2) head += edit.added[i]! + ': ' + edit.added[i + 1]! + '\r\n';
  if (!sawHost && authority !== '') head += 'host: ' + authority + '\r\n';
  if (framing === BodyFraming.Chunked) head += 'transfer-encoding: chunked\r\n';
  if (upgrade !== undefined) head += 'upgrade: ' + upgrade + '\r\nconnection: upgrade\r\n';
  return { head: head + '\r\n', framing };
}

/** Field names listed in Connection beyond close/keep-alive (rare: undefined when none). */
function connectionListed(raw: readonly string[]): string[] | undefined {
  let listed: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    const value = raw[i + 1]!.toLowerCase();
    if (value === 'keep-alive' || value === 'close') continue;
    for (const token of value.split(',')) {
      const t = token.trim();
      if (t !== '' && t !== 'keep-alive' && t !== 'close') (listed ??= []).push(t);
    }
  }
  return listed;
}
