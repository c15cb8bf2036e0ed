// Builders for RuntimeConfig values in tests: small defaults, every field overridable.
import type { RetryConditions, RetryConfig } from '../config/resilience-config.js';
import { SafeRegex } from '../config/safe-regex.js';
import type {
  ClusterConfig,
  Endpoint,
  HttpListenerConfig,
  RouteRule,
  RouteTable,
  RuntimeConfig,
  TcpListenerConfig,
  VirtualHost,
  WeightedCluster,
} from '../config/runtime-config.js';

let version = 0;

/** An RE2 pattern as the decoder compiles it; throws on a pattern RE2 refuses (a bug in the test). */
export function safeRegex(pattern: string): SafeRegex {
  const r = SafeRegex.compile(pattern);
  if ('error' in r) throw new Error(`${pattern}: ${r.error}`);
  return r;
}

export function httpListener(name: string, port: number, over: Partial<HttpListenerConfig> = {}): HttpListenerConfig {
  return { name, direction: 'outbound', address: '127.0.0.1', port, protocol: 'http', routeTable: 'routes', httpProxy: false, ...over };
}

export function tcpListener(name: string, port: number, clusters: readonly WeightedCluster[], over: Partial<TcpListenerConfig> = {}): TcpListenerConfig {
  return { name, direction: 'outbound', address: '127.0.0.1', port, protocol: 'tcp', clusters, ...over };
}

export function endpoint(port: number, over: Partial<Endpoint> = {}): Endpoint {
  return { address: '127.0.0.1', port, healthy: true, weight: 1, ...over };
}

export function cluster(name: string, endpoints: readonly Endpoint[], over: Partial<ClusterConfig> = {}): ClusterConfig {
  return { name, lbPolicy: 'round_robin', connectTimeoutMs: 1000, service: name, endpoints, ...over };
}

export function rule(name: string, clusters: readonly WeightedCluster[] | string, over: Partial<RouteRule> = {}): RouteRule {
  const cs = typeof clusters === 'string' ? [{ cluster: clusters, weight: 1 }] : clusters;
  return { name, path: { type: 'prefix', value: '/' }, headers: [], query: [], clusters: cs, timeoutMs: 0, ...over };
}

export function virtualHost(name: string, domains: readonly string[], routes: readonly RouteRule[]): VirtualHost {
  return { name, domains, routes };
}

export function routeTable(name: string, virtualHosts: readonly VirtualHost[]): RouteTable {
  return { name, virtualHosts };
}

export function runtimeConfig(parts: {
  listeners?: readonly (HttpListenerConfig | TcpListenerConfig)[];
  routes?: readonly RouteTable[];
  clusters?: readonly ClusterConfig[];
}): RuntimeConfig {
  const v = String(++version);
  return {
    versions: { listeners: v, routes: v, clusters: v, endpoints: v },
    listeners: new Map((parts.listeners ?? []).map((l) => [l.name, l])),
    routes: new Map((parts.routes ?? []).map((r) => [r.name, r])),
    clusters: new Map((parts.clusters ?? []).map((c) => [c.name, c])),
  };
}

/** One outbound HTTP listener on `port` routing every host and path to cluster `app` at `upstreamPorts`. */
export function simpleConfig(port: number, upstreamPorts: readonly number[], over: { timeoutMs?: number; listener?: Partial<HttpListenerConfig> } = {}): RuntimeConfig {
  return runtimeConfig({
    listeners: [httpListener('out', port, over.listener)],
    routes: [routeTable('routes', [virtualHost('all', ['*'], [rule('default', 'app', { timeoutMs: over.timeoutMs ?? 0 })])])],
    clusters: [
      cluster(
        'app',
        upstreamPorts.map((p) => endpoint(p)),
      ),
    ],
  });
}

/** A retry policy: 3 retries on connect failure, reset and 5xx, 1–5 ms backoff, every method. */
export function retryPolicy(over: Partial<RetryConfig> = {}, on: Partial<RetryConditions> = {}): RetryConfig {
  return {
    numRetries: 3,
    perTryTimeoutMs: 0,
    statusCodes: [],
    backoffBaseMs: 1,
    backoffMaxMs: 5,
    methods: undefined,
    ...over,
    on: { connectFailure: true, reset: true, fiveXx: true, gatewayError: false, retriableStatus: false, grpcStatuses: [], ...on },
  };
}
