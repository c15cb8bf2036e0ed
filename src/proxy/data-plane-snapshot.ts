// What the data path builds from one RuntimeConfig (STYLE 4): a cluster state (picker over
// pooled endpoints) per cluster and a compiled router per route table. Immutable once built;
// a new config builds a new snapshot, requests in flight keep the one they started with.
import { createBalancer, EMPTY_BALANCER, WeightedChoice, type Balancer } from './balancer/index.js';
import type { ClusterConfig, HttpListenerConfig, RuntimeConfig, TcpListenerConfig, WeightedCluster } from './config/runtime-config.js';
import type { HttpStack } from './http/layer.js';
import type { EndpointRegistry } from './pool/endpoint-registry.js';
import type { UpstreamEndpoint } from './pool/upstream-endpoint.js';
import { Router } from './routing/router.js';
import { ClusterRuntime, ClusterRuntimes } from './resilience/cluster-runtime.js';
import type { TcpConnection, TcpService } from './tcp/tcp-layer.js';

/** A cluster as requests see it in one snapshot. */
export interface ClusterState {
  readonly name: string;
  /** Destination service, the `service` label of metrics. */
  readonly service: string;
  readonly connectTimeoutMs: number;
  readonly balancer: Balancer<UpstreamEndpoint>;
  readonly config: ClusterConfig;
  /** The cluster's endpoints (for its connection count). */
  readonly endpoints: readonly UpstreamEndpoint[];
  /** Load and outlier state of the cluster, shared with the snapshots before and after this one. */
  readonly runtime: ClusterRuntime;
}

/** What an HTTP listener serves requests with until the next config. */
export interface HttpListenerScope {
  readonly listener: HttpListenerConfig;
  /** Undefined when the listener names a route table the config lacks (every request is a 404). */
  readonly router: Router<ClusterState> | undefined;
  readonly stack: HttpStack;
}

/** What a TCP listener serves connections with until the next config. */
export interface TcpListenerScope {
  readonly listener: TcpListenerConfig;
  readonly backends: WeightedChoice<ClusterState>;
  readonly stack: TcpService<TcpConnection>;
}

export interface PlaneSnapshot {
  readonly config: RuntimeConfig;
  readonly clusters: ReadonlyMap<string, ClusterState>;
  readonly routers: ReadonlyMap<string, Router<ClusterState>>;
  /** Every endpoint some cluster lists: their pools must survive this config. */
  readonly endpoints: ReadonlySet<UpstreamEndpoint>;
}

/** Builds the snapshot of `config`, taking endpoints (and so their pools) from `registry`. */
export function buildSnapshot(config: RuntimeConfig, registry: EndpointRegistry, runtimes: ClusterRuntimes = new ClusterRuntimes()): PlaneSnapshot {
  const endpoints = new Set<UpstreamEndpoint>();
  const clusters = new Map<string, ClusterState>();
  for (const [name, c] of config.clusters) {
    const members = c.endpoints.map((e) => {
      const target = registry.get(e.address, e.port, c.tls, c.service, c.origination ? { cluster: name, tls: c.origination } : undefined);
      endpoints.add(target);
      return { target, healthy: e.healthy, weight: e.weight };
    });
    const runtime = runtimes.get(name);
    runtime.update(c, members);
    clusters.set(name, {
      name,
      service: c.service,
      connectTimeoutMs: c.connectTimeoutMs,
      balancer: createBalancer(c.lbPolicy, members),
      config: c,
      runtime,
      endpoints: members.map((m) => m.target),
    });
  }
  runtimes.retainOnly(new Set(config.clusters.keys()));
  const resolve = (name: string): ClusterState => clusters.get(name) ?? missingCluster(name);
  const routers = new Map<string, Router<ClusterState>>();
  for (const [name, table] of config.routes) routers.set(name, new Router(table, resolve));
  return { config, clusters, routers, endpoints };
}

/** The TCP listener's backends in `snapshot`. */
export function tcpBackends(snapshot: PlaneSnapshot, listener: TcpListenerConfig): WeightedChoice<ClusterState> {
  return chainBackends(snapshot, listener.clusters);
}

/** Weighted clusters (of a TCP listener or a capture listener's TCP chain) in `snapshot`. */
export function chainBackends(snapshot: PlaneSnapshot, clusters: readonly WeightedCluster[]): WeightedChoice<ClusterState> {
  return new WeightedChoice(clusters.map((c) => ({ item: snapshot.clusters.get(c.cluster) ?? missingCluster(c.cluster), weight: c.weight })));
}

/**
 * Stands in for a cluster the config names but lacks. The decoder refuses such configs, so
 * this only keeps the proxy total: requests to it get 503 instead of a crash.
 */
function missingCluster(name: string): ClusterState {
  return {
    name,
    service: 'unknown',
    connectTimeoutMs: 0,
    balancer: EMPTY_BALANCER,
    config: { name, lbPolicy: 'round_robin', connectTimeoutMs: 0, service: 'unknown', endpoints: [] },
    runtime: new ClusterRuntime(),
    endpoints: [],
  };
}
