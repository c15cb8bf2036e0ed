// Fakes for unit tests of the HTTP layers: a downstream that records what the proxy answered, a
// request context over a listener scope, cluster states with real balancers and runtimes, a
// compiled route, an upstream call and a recording next handler. No sockets, no timers of their own.
import { createBalancer, WeightedChoice } from '../balancer/index.js';
import type { ClusterConfig, HttpListenerConfig, RouteRule } from '../config/runtime-config.js';
import type { ClusterState, HttpListenerScope } from '../data-plane-snapshot.js';
import type { Downstream } from '../http/downstream.js';
import { HttpStack, type Handler, type HttpLayer } from '../http/layer.js';
import { RequestContext, type EndpointRequest, type UpstreamCall } from '../http/request-context.js';
import { UpstreamEndpoint } from '../pool/upstream-endpoint.js';
import { ClusterRuntime } from '../resilience/cluster-runtime.js';
import type { CompiledRoute, Router } from '../routing/router.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { ProxyTelemetry, type ProxyIdentity } from '../telemetry/proxy-telemetry.js';
import { cluster, httpListener, rule } from './config-builder.js';

/** One complete answer the proxy sent downstream; header names as sent. */
export interface SentResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
}

/** A downstream that keeps what the proxy answered (or that it broke the response off). */
export class FakeDownstream implements Downstream {
  /** Flat `[name, value, ...]`, as an HTTP/1.x head keeps them. */
  readonly rawHeaders: string[];
  /** Set by the test to stand for a response head the forwarder already relayed. */
  headersSent = false;
  readonly responses: SentResponse[] = [];
  aborts = 0;

  constructor(
    readonly protocol: 'http/1.1' | 'h2',
    headers: Readonly<Record<string, string>>,
    readonly hasBody: boolean,
    readonly remoteAddress: string | undefined,
  ) {
    this.rawHeaders = Object.entries(headers).flat();
  }

  header(lowerName: string): string | undefined {
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === lowerName) return raw[i + 1];
    return undefined;
  }

  sendResponse(status: number, headers: string[], body: string | undefined): void {
    const h: Record<string, string> = {};
    for (let i = 0; i < headers.length; i += 2) h[headers[i]!] = headers[i + 1]!;
    this.responses.push({ status, headers: h, body });
    this.headersSent = true;
  }

  abort(): void {
    this.aborts++;
  }

  /** The one answer sent, or undefined. */
  get response(): SentResponse | undefined {
    return this.responses[0];
  }
}

export interface FakeRequestOptions {
  method?: string;
  /** Default `/`. */
  path?: string;
  /** Default `app.test`. */
  authority?: string;
  /** Request headers by name. */
  headers?: Readonly<Record<string, string>>;
  protocol?: 'http/1.1' | 'h2';
  hasBody?: boolean;
  remoteAddress?: string;
  /** Over an outbound listener `l` on port 15001. */
  listener?: Partial<HttpListenerConfig>;
  router?: Router<ClusterState>;
  /** The stack whose up hooks ctx.attemptFailed and ctx.upstreamHead reach (default: none). */
  layers?: readonly HttpLayer[];
  /** What `scope.stack.serve` reaches below `layers` (default: nothing). */
  terminal?: Handler;
  /** A stack built elsewhere (buildOutboundStack), instead of `layers` and `terminal`. */
  stack?: HttpStack;
  peerIdentity?: string;
  /** Stage data as the layers above would have set it. */
  route?: CompiledRoute<ClusterState>;
  cluster?: ClusterState;
}

/** A request context as the listener creates it, over a scope of its own. */
/**
 * A request context for a layer under test. Typed as the deepest stage (EndpointRequest) so any
 * layer takes it: set `route`, `cluster` (and ctx.endpoint) as the stage of the layer under test has them.
 */
export function fakeRequest(o: FakeRequestOptions = {}): { ctx: EndpointRequest; down: FakeDownstream } {
  const down = new FakeDownstream(o.protocol ?? 'http/1.1', o.headers ?? {}, o.hasBody ?? false, o.remoteAddress ?? '10.0.0.9');
  const scope: HttpListenerScope = { listener: httpListener('l', 15001, o.listener), router: o.router, stack: o.stack ?? new HttpStack(o.layers ?? [], o.terminal ?? (() => {})) };
  const ctx = new RequestContext(scope, down, o.method ?? 'GET', o.path ?? '/', o.authority ?? 'app.test');
  if (o.peerIdentity !== undefined) ctx.peerIdentity = o.peerIdentity;
  if (o.route !== undefined) ctx.route = o.route;
  if (o.cluster !== undefined) ctx.cluster = o.cluster;
  return { ctx: ctx as EndpointRequest, down };
}

/** Endpoints 10.1.0.1:8080, 10.1.0.2:8080, ... (pools that dial only when asked to). */
export function fakeEndpoints(n: number): UpstreamEndpoint[] {
  return Array.from({ length: n }, (_, i) => new UpstreamEndpoint(`10.1.0.${i + 1}`, 8080));
}

/**
 * A cluster as a snapshot builds it: a balancer of its lbPolicy over `endpoints` and a runtime
 * following its config (an outlier detector when `over.outlier` is set: stop it with runtime.stop()).
 */
export function clusterState(name: string, endpoints: readonly UpstreamEndpoint[] = [], over: Partial<ClusterConfig> = {}): ClusterState {
  const config = cluster(name, [], { service: `${name}.default`, ...over });
  const members = endpoints.map((target) => ({ target, healthy: true, weight: 1 }));
  const runtime = new ClusterRuntime();
  runtime.update(config, members);
  return {
    name,
    service: config.service,
    connectTimeoutMs: config.connectTimeoutMs,
    balancer: createBalancer(config.lbPolicy, members),
    config,
    runtime,
    endpoints: [...endpoints],
  };
}

/** The route of rule `r` (`all/r`) in virtual host `all` with `backends` and `mirrors`. */
export function compiledRoute(
  over: Partial<RouteRule> = {},
  backends: readonly { readonly item: ClusterState; readonly weight: number }[] = [],
  mirrors: CompiledRoute<ClusterState>['mirrors'] = [],
): CompiledRoute<ClusterState> {
  const r = rule(
    'r',
    backends.map((b) => ({ cluster: b.item.name, weight: b.weight })),
    over,
  );
  return { name: `all/${r.name}`, rule: r, timeoutMs: r.timeoutMs, backends: new WeightedChoice(backends), mirrors };
}

/** Contexts the next handler was called with, in order. */
export class NextRecorder {
  readonly calls: RequestContext[] = [];
  readonly handler: Handler = (ctx) => {
    this.calls.push(ctx);
  };
}

/** Marks `ctx` as forwarding upstream; `cancels` counts how often the exchange was stopped. */
export function fakeUpstream(ctx: RequestContext): UpstreamCall & { cancels: number } {
  const call = {
    cancels: 0,
    cancel() {
      call.cancels++;
    },
  };
  ctx.upstream = call;
  return call;
}

/** What the forwarder and listener do when the upstream's answer went downstream whole: the request is over. */
export function completeResponse(ctx: RequestContext, status: number): void {
  ctx.status = status;
  (ctx.downstream as FakeDownstream).headersSent = true;
  ctx.upstream = undefined;
  ctx.downstreamClosed();
}

export const TEST_IDENTITY: ProxyIdentity = { service: 'web.default', serviceName: 'web', namespace: 'default', workload: 'web-v1', nodeId: 'sidecar~test' };

/** Telemetry of proxy web.default/web-v1 (its access log and exporter open only when used). */
export function testTelemetry(options: { metrics?: ProxyMetrics } = {}): ProxyTelemetry {
  return new ProxyTelemetry({ identity: TEST_IDENTITY, ...options });
}
