// The one place where a failure becomes a response (STYLE 6): status and a short text reason
// for HTTP, a trailers-only answer with grpc-status for gRPC, `x-trellis-error: <code>` on
// every answer the proxy makes itself. A response already under way is broken off instead.
// The client gets the error's message, which never holds an internal address; its detail (the
// endpoint, the raw cause) goes to the `proxy.errors` log at info.
import { http } from '../../common/node-http.js';
import { createLogger } from '../../common/log.js';
import type { ProxyError } from '../errors.js';
import type { RequestContext } from './request-context.js';

const log = createLogger('proxy.errors');

/** The header that marks a response as the proxy's own, with the error's stable code. */
export const ERROR_HEADER = 'x-trellis-error';

// gRPC codes (grpc/status.h) for what the proxy answers.
const GRPC_INTERNAL = 13;
const GRPC_UNAVAILABLE = 14;
const GRPC_UNIMPLEMENTED = 12;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAUTHENTICATED = 16;

/** The gRPC status a gRPC client gets for an HTTP status the proxy would answer with. */
export function grpcStatusFor(httpStatus: number): number {
  switch (httpStatus) {
    case 404:
      return GRPC_UNIMPLEMENTED;
    case 502:
    case 503:
      return GRPC_UNAVAILABLE;
    case 504:
      return GRPC_DEADLINE_EXCEEDED;
    case 401:
      return GRPC_UNAUTHENTICATED;
    case 403:
      return GRPC_PERMISSION_DENIED;
    case 429:
      return GRPC_RESOURCE_EXHAUSTED;
    default:
      return GRPC_INTERNAL;
  }
}

/** Answers `ctx` with `error`; see the header comment. Only RequestContext.fail calls this. */
export function respondWithError(ctx: RequestContext, error: ProxyError): void {
  const d = ctx.downstream;
  if (error.detail !== undefined && log.isLevelEnabled('info'))
    log.info({ code: error.code, listener: ctx.listener.name, route: ctx.route?.name, detail: error.detail }, error.message);
  if (d.headersSent || ctx.done) {
    d.abort();
    return;
  }
  const contentType = ctx.header('content-type');
  if (d.protocol === 'h2' && contentType !== undefined && contentType.startsWith('application/grpc')) {
    const grpcStatus = error.grpcStatus ?? grpcStatusFor(error.status);
    ctx.status = 200;
    ctx.grpcStatus = grpcStatus;
    d.sendResponse(
      200,
      [
        'content-type',
        'application/grpc',
        'grpc-status',
        String(grpcStatus),
        'grpc-message',
        encodeGrpcMessage(error.message),
        ERROR_HEADER,
        error.code,
        ...(error.challenge !== undefined ? ['www-authenticate', error.challenge] : []),
      ],
      undefined,
    );
    return;
  }
  ctx.status = error.status;
  ctx.responseBytes = Buffer.byteLength(error.message) + 1;
  const headers = ['content-type', 'text/plain; charset=utf-8', ERROR_HEADER, error.code];
  if (error.challenge !== undefined) headers.push('www-authenticate', error.challenge);
  d.sendResponse(error.status, headers, error.message + '\n');
}

/** Answers `ctx` with a redirect the route configured (not an error: no x-trellis-error). */
export function respondRedirect(ctx: RequestContext, status: number, location: string): void {
  if (ctx.downstream.headersSent || ctx.done) return;
  ctx.status = status;
  ctx.downstream.sendResponse(status, ['location', location], '');
}

/** grpc-message is percent-encoded outside printable ASCII (and `%` itself). */
function encodeGrpcMessage(message: string): string {
  return message.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}

/**
 * The bytes of an HTTP/1.1 error answer for a connection that never reached the HTTP stack
 * (a captured connection the proxy refuses, a request head node's parser refused or timed
 * out); the connection closes after it.
 */
export function rawH1ErrorResponse(error: ProxyError): string {
  const body = error.message + '\n';
  return `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\n${ERROR_HEADER}: ${error.code}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
