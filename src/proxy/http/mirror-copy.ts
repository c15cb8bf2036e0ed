// One request mirror copy, sent fire-and-forget over the mirror endpoint's pooled connections,
// as an ordinary request to that endpoint goes: HTTP/1.1 as an exchange on a keep-alive
// connection of its H1 pool, HTTP/2 (gRPC included) as a stream on its one multiplexed session.
// The head is taken from the caller's request when the copy is made; the body (complete, kept
// by the mirror layer) goes with it when it is sent. The answer is read and dropped (an HTTP/1.1
// connection whose answer was read whole goes back to its pool); the copy is over at its answer's
// end, its failure, or MIRROR_TIMEOUT_MS, and tells its owner once. Nothing of it reaches the caller.
import type net from 'node:net';
import http2 from 'node:http2';
import type { ClusterState } from '../data-plane-snapshot.js';
import type { H1Connection, H1Exchange } from '../pool/h1-connection.js';
import type { H1UpgradeResponse } from '../pool/h1-response-parser.js';
import type { UpstreamEndpoint } from '../pool/upstream-endpoint.js';
import { BodyFraming, buildH1RequestHead } from './h1-request-head.js';
import type { H1Downstream } from './h1-downstream.js';
import type { H2Downstream } from './downstream.js';
import { modifyFlat } from './header-mods.js';
import { h2RequestHeaders } from './h2-request-headers.js';
import type { RoutedRequest } from './request-context.js';

/** A copy not answered within this is abandoned (its HTTP/1.1 connection closed, its stream reset). */
export const MIRROR_TIMEOUT_MS = 10_000;

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants;

/** Hears once that a copy is over; `failed`: it got no complete answer. */
export type CopyOver = (copy: MirrorCopy, failed: boolean) => void;

/** A copy of one request for one mirror endpoint. */
export abstract class MirrorCopy {
  /** Body bytes it carries (set by the owner when it sends it). */
  bytes = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private over = false;

  constructor(
    /** The mirror cluster (its outcomes are counted there) and its endpoint the copy goes to. */
    readonly cluster: ClusterState,
    readonly endpoint: UpstreamEndpoint,
    private readonly onOver: CopyOver,
  ) {}

  /** Sends the copy with `body` (the request's whole body; empty when it has none). */
  send(body: readonly Buffer[]): void {
    this.timer = setTimeout(onCopyTimeout, MIRROR_TIMEOUT_MS, this);
    this.start(body);
  }

  protected abstract start(body: readonly Buffer[]): void;
  /** Stops the exchange in progress (timeout). */
  protected abstract abandon(): void;

  timedOut(): void {
    this.timer = undefined;
    if (this.over) return;
    this.abandon();
    this.end(true);
  }

  protected end(failed: boolean): void {
    if (this.over) return;
    this.over = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.onOver(this, failed);
  }
}

function onCopyTimeout(copy: MirrorCopy): void {
  copy.timedOut();
}

/** The copy of an HTTP/1.x request: one exchange on a pooled connection. */
export class MirrorH1Copy extends MirrorCopy implements H1Exchange {
  private readonly head: string;
  private readonly framing: BodyFraming;
  private readonly headRequest: boolean;
  private conn: H1Connection | null = null;

  constructor(ctx: RoutedRequest, cluster: ClusterState, endpoint: UpstreamEndpoint, onOver: CopyOver) {
    super(cluster, endpoint, onOver);
    const raw = (ctx.downstream as H1Downstream).rawHeaders;
    const mods = ctx.route.rule.requestHeaders;
    const built = buildH1RequestHead(
      ctx.method,
      ctx.path,
      mods === undefined ? raw : modifyFlat(raw, mods),
      `${ctx.authority}-shadow`,
      true,
      ctx.upstreamHeaders,
      undefined,
      ctx.upstreamEdit,
    );
    this.head = built.head;
    this.framing = built.framing;
    this.headRequest = ctx.method === 'HEAD';
  }

  protected start(body: readonly Buffer[]): void {
    const conn = this.endpoint.h1.acquire(this.cluster.connectTimeoutMs);
    this.conn = conn;
    const framing = this.framing;
    conn.dispatch(this, this.head, this.headRequest, framing === BodyFraming.None);
    if (framing === BodyFraming.None) return;
    const chunked = framing === BodyFraming.Chunked;
    for (const data of body) {
      if (chunked) conn.write(data.length.toString(16) + '\r\n');
      conn.write(data);
      if (chunked) conn.write('\r\n');
    }
    conn.endRequest(chunked ? '0\r\n\r\n' : undefined);
  }

  protected abandon(): void {
    this.conn?.cancel(this); // its answer is not read whole: the connection cannot be reused
  }

  onResponseHead(): void {}
  onResponseBody(): void {}
  onResponseContinue(): void {}
  onResponseWaiting(): void {}

  onResponseComplete(): void {
    this.end(false); // the connection goes back to its pool
  }

  onUpgrade(_response: H1UpgradeResponse, socket: net.Socket): void {
    socket.destroy(); // a copy never asks for an upgrade (the pool reports none unasked): nothing to relay
    this.end(true);
  }

  onExchangeError(): void {
    this.end(true);
  }
}

/** On a copy's HTTP/2 stream: the copy it belongs to. */
const kCopy = Symbol('trellis.mirrorCopy');
type CopyStream = http2.ClientHttp2Stream & { [kCopy]?: MirrorH2Copy };

/** The copy of an HTTP/2 request (gRPC included): one stream on the endpoint's session. */
export class MirrorH2Copy extends MirrorCopy {
  private readonly headers: http2.OutgoingHttpHeaders;
  private stream: http2.ClientHttp2Stream | undefined = undefined;
  private responded = false;
  private errored = false;

  constructor(ctx: RoutedRequest, cluster: ClusterState, endpoint: UpstreamEndpoint, onOver: CopyOver) {
    super(cluster, endpoint, onOver);
    this.headers = h2RequestHeaders(ctx, (ctx.downstream as H2Downstream).headers, `${ctx.authority}-shadow`);
  }

  protected start(body: readonly Buffer[]): void {
    let stream: CopyStream;
    try {
      stream = this.endpoint.h2.acquire(this.cluster.connectTimeoutMs).request(this.headers, { endStream: body.length === 0 });
    } catch {
      this.end(true);
      return;
    }
    this.stream = stream;
    stream[kCopy] = this;
    stream.once('response', onCopyResponse);
    stream.on('error', onCopyError);
    stream.once('close', onCopyClose);
    stream.resume(); // the answer's data is read and dropped
    if (body.length === 0) return;
    for (const chunk of body) stream.write(chunk);
    stream.end();
  }

  protected abandon(): void {
    const stream = this.stream;
    if (stream !== undefined && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
  }

  responseHead(): void {
    this.responded = true;
  }

  streamError(): void {
    this.errored = true;
  }

  streamClosed(): void {
    const rst = this.stream?.rstCode ?? NGHTTP2_NO_ERROR;
    this.end(!this.responded || this.errored || rst !== NGHTTP2_NO_ERROR);
  }
}

function onCopyResponse(this: CopyStream): void {
  this[kCopy]!.responseHead();
}
function onCopyError(this: CopyStream): void {
  this[kCopy]!.streamError();
}
function onCopyClose(this: CopyStream): void {
  this[kCopy]!.streamClosed();
}
