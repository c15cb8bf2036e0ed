// The upstream HTTP/2 request headers of a downstream HTTP/2 request: its fields without the
// connection-specific ones HTTP/2 forbids (RFC 9113 8.2.2), `te` kept only as `trailers`, the
// proxy's own source and trace headers in place of the app's, the JWT layer's edit, and the
// route's header changes.
import type http2 from 'node:http2';
import { modifyObject } from './header-mods.js';
import type { RequestContext } from './request-context.js';
import { REWRITTEN_HEADERS } from './upstream-headers.js';

/** Fields HTTP/2 forbids (RFC 9113 8.2.2) plus ones we set ourselves. */
const SKIP_REQUEST = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings', 'te']);
/** A `te` request field naming `trailers`, the one value HTTP/2 allows it (RFC 9113 8.2.2). */
const TE_TRAILERS = /(?:^|,)\s*trailers\s*(?:$|[,;])/i;

/** The headers of `ctx`'s request (its downstream fields `src`) for an upstream stream to `authority`. */
export function h2RequestHeaders(ctx: RequestContext, src: http2.IncomingHttpHeaders, authority: string): http2.OutgoingHttpHeaders {
  const headers: http2.OutgoingHttpHeaders = {
    ':method': ctx.method,
    ':path': ctx.path,
    ':scheme': 'http',
    ':authority': authority,
  };
  const extra = ctx.upstreamHeaders;
  const edit = ctx.upstreamEdit;
  for (const name in src) {
    if (name.charCodeAt(0) === 58 /* ':' */ || SKIP_REQUEST.has(name)) continue;
    if (extra !== undefined && REWRITTEN_HEADERS.has(name)) continue;
    if (edit !== undefined && edit.removed.has(name)) continue;
    headers[name] = src[name];
  }
  if (extra !== undefined) for (let i = 0; i < extra.length; i += 2) headers[extra[i]!] = extra[i + 1];
  if (edit !== undefined) for (let i = 0; i < edit.added.length; i += 2) headers[edit.added[i]!] = edit.added[i + 1];
  const te = src['te'];
  if (typeof te === 'string' && TE_TRAILERS.test(te)) headers['te'] = 'trailers';
  const mods = ctx.route?.rule.requestHeaders;
  if (mods !== undefined) modifyObject(headers, mods);
  return headers;
}
