// An HTTP/1.1 Upgrade (WebSocket) through the proxy: which upgrades pass, and the exchange after
// the upstream's 101. The request went down the stack like any other (routing, authorization,
// rate limits, trace context); on 101 the downstream and upstream connections become one opaque
// byte relay (SocketRelay, the TCP stack's), and the request ends when the relay does, so the
// metrics and the access log record it then, with the bytes relayed each way. The upstream
// connection left its pool at the 101 and is closed with the relay.
import type net from 'node:net';
import { forbidden, type ProxyError } from '../errors.js';
import type { UpstreamEndpoint } from '../pool/upstream-endpoint.js';
import type { H1UpgradeResponse } from '../pool/h1-response-parser.js';
import { SocketRelay, type RelayOwner } from '../tcp/socket-relay.js';
import type { H1Downstream } from './h1-downstream.js';
import { modifyFlat } from './header-mods.js';
import type { RequestContext, UpstreamCall } from './request-context.js';

/** The only upgrade passed on (Envoy's default upgrade_configs): others get 403, h2c is served as an ordinary request. */
const WEBSOCKET = 'websocket';

/** Why the proxy refuses an upgrade to `protocol` (the Upgrade field as sent), or undefined when it passes. */
export function upgradeRefusal(protocol: string): ProxyError | undefined {
  if (protocol.length === WEBSOCKET.length && protocol.toLowerCase() === WEBSOCKET) return undefined;
  return forbidden(`upgrade to ${JSON.stringify(protocol.slice(0, 40))} is not allowed (only websocket upgrades pass)`);
}

/** The relay of an upgraded connection, as the request sees it (its upstream call until the relay ends). */
class UpgradedExchange implements UpstreamCall, RelayOwner {
  private readonly relay: SocketRelay;
  /** The downstream socket's byte counts when the relay began (the client's early bytes count as relayed). */
  private readonly readBefore: number;
  private readonly writtenBefore: number;

  constructor(
    private readonly ctx: RequestContext,
    private readonly down: H1Downstream,
    private readonly endpoint: UpstreamEndpoint,
    private readonly downSocket: net.Socket,
    upstream: net.Socket,
    early: Buffer | undefined,
  ) {
    this.relay = new SocketRelay(downSocket, upstream, this);
    this.readBefore = downSocket.bytesRead - (early?.length ?? 0);
    this.writtenBefore = downSocket.bytesWritten;
    endpoint.active++;
    ctx.upstream = this;
    if (early !== undefined) upstream.write(early);
  }

  /** `rest`: what the upstream sent right after its 101. */
  start(rest: Buffer | undefined): void {
    if (rest !== undefined) this.downSocket.write(rest);
    this.relay.start(undefined);
  }

  /** The request ended otherwise (the proxy failed it, the listener's grace ended): both connections go. */
  cancel(): void {
    this.relay.fail(new Error('the upgraded connection was closed by the proxy'));
  }

  relayEnded(): void {
    const ctx = this.ctx;
    ctx.requestBytes += this.downSocket.bytesRead - this.readBefore;
    ctx.responseBytes += this.downSocket.bytesWritten - this.writtenBefore;
    this.endpoint.active--;
    if (ctx.upstream === this) ctx.upstream = undefined;
    this.down.connectionClosed();
  }
}

/**
 * The upstream answered 101 to `ctx`'s upgrade: writes the 101 downstream (the route's response
 * header modifiers applied) and relays both connections until either closes. `upstream` has
 * left its pool. Returns why the 101 could not be relayed (nothing was written; the caller
 * fails the request), or undefined.
 */
export function relayUpgraded(ctx: RequestContext, down: H1Downstream, endpoint: UpstreamEndpoint, response: H1UpgradeResponse, upstream: net.Socket): string | undefined {
  const mods = ctx.route?.rule.responseHeaders;
  let taken: { socket: net.Socket; early: Buffer | undefined };
  try {
    taken = down.switchProtocols(response.reason, mods === undefined ? response.headers : modifyFlat(response.headers, mods), response.protocol);
  } catch (e) {
    upstream.destroy();
    return `the 101 response could not be relayed: ${e instanceof Error ? e.message : String(e)}`;
  }
  ctx.status = 101;
  new UpgradedExchange(ctx, down, endpoint, taken.socket, upstream, taken.early).start(response.rest);
  return undefined;
}
