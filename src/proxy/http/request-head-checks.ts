// Checks on a request head that the HTTP parsers let through: more header fields than the
// listener allows (431; node:http keeps only the first maxHeadersCount silently, nghttp2 resets
// past maxHeaderListPairs without an answer) and more than one Host (400: the proxy routes on
// one, an upstream might pick the other). Run once per request before the stack sees it.
import { badRequest, tooManyHeaders, type ProxyError } from '../errors.js';

/** The problem with `rawHeaders` (flat `[name, value, ...]`, pseudo-headers included for HTTP/2), or undefined. */
export function requestHeadProblem(rawHeaders: readonly string[], maxHeaders: number): ProxyError | undefined {
  let fields = 0;
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    fields++;
    if (name.length === 4 && (name === 'host' || name.toLowerCase() === 'host')) hosts++;
  }
  if (fields > maxHeaders) return tooManyHeaders(fields, maxHeaders);
  if (hosts > 1) return badRequest(`${hosts} Host header fields; a request has at most one`);
  return undefined;
}
