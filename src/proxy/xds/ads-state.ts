// The client's side of state-of-the-world ADS, without the transport: the last accepted
// resources of each type, the candidate state a response would produce, and the resource
// names to subscribe to.
// Invariant: `config` is built from `accepted`, and `accepted` holds only the route tables
// and endpoint sets that the accepted listeners and clusters name.
import { err, ok, type Result } from '../../common/result.js';
import { EMPTY_CONFIG, type ListenerConfig, type ResourceVersions, type RouteTable, type RuntimeConfig } from '../config/runtime-config.js';
import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../../xds/envoy-types.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
import { buildRuntimeConfig, edsNames, referencedClusters, referencedRouteNames } from './build-config.js';
import { decodeCluster, type DecodedCluster } from './decode-cluster.js';
import { decodeClusterLoadAssignment, type DecodedEndpoints } from './decode-endpoints.js';
import { decodeListener } from './decode-listener.js';
import { decodeRouteConfiguration } from './decode-route.js';
import { isObj, resourceLabel } from './decode-fields.js';
import { XDS_PROBLEM, show, type Problem } from './errors.js';

export type ResourceKind = keyof ResourceVersions;

/** The kinds in the order a fresh stream subscribes: wildcard CDS and LDS first. */
export const KINDS: readonly ResourceKind[] = ['clusters', 'listeners', 'endpoints', 'routes'];

export const TYPE_URL_OF: Record<ResourceKind, string> = {
  clusters: CLUSTER_TYPE,
  endpoints: ENDPOINT_TYPE,
  listeners: LISTENER_TYPE,
  routes: ROUTE_TYPE,
};

/** The kind of a DiscoveryResponse type URL, or undefined for a type the proxy does not use. */
export function kindOf(typeUrl: string): ResourceKind | undefined {
  return KINDS.find((k) => TYPE_URL_OF[k] === typeUrl);
}

interface Decoder<D> {
  label: string;
  nameField: string;
  decode(raw: unknown, i: number): Result<D, Problem[]>;
  nameOf(d: D): string;
}
type DecodedOf = { listeners: ListenerConfig; routes: RouteTable; clusters: DecodedCluster; endpoints: DecodedEndpoints };
const DECODERS: { [K in ResourceKind]: Decoder<DecodedOf[K]> } = {
  listeners: { label: 'listener', nameField: 'name', decode: decodeListener, nameOf: (d) => d.name },
  routes: { label: 'route', nameField: 'name', decode: decodeRouteConfiguration, nameOf: (d) => d.name },
  clusters: { label: 'cluster', nameField: 'name', decode: decodeCluster, nameOf: (d) => d.config.name },
  endpoints: { label: 'endpoints', nameField: 'clusterName', decode: decodeClusterLoadAssignment, nameOf: (d) => d.clusterName },
};

/** The accepted resources of one kind: raw (as received, for config_dump) and decoded, by name. */
interface Accepted<D> {
  readonly version: string;
  readonly received: boolean;
  readonly raw: Map<string, object>;
  readonly decoded: Map<string, D>;
}
type AllAccepted = { [K in ResourceKind]: Accepted<DecodedOf[K]> };

/** What a response would change, checked and ready to commit once the data plane applied `config`. */
export interface Candidate {
  readonly kind: ResourceKind;
  readonly version: string;
  readonly config: RuntimeConfig;
  /** Names in the response that the proxy did not subscribe to (RDS/EDS), dropped. */
  readonly ignored: readonly string[];
  /** Clusters this CDS response removed that listeners or routes still use, kept until they no longer do. */
  readonly retainedNow: readonly string[];
  readonly next: AllAccepted;
  readonly retained: ReadonlySet<string>;
}

/** Raw accepted Envoy resources, for the admin config_dump. */
export interface ResourceDump {
  versions: ResourceVersions;
  resources: { listeners: Listener[]; routes: RouteConfiguration[]; clusters: Cluster[]; endpoints: ClusterLoadAssignment[] };
}

const empty = <D>(): Accepted<D> => ({ version: '', received: false, raw: new Map(), decoded: new Map() });

/** A copy of `a` with only the names `keep` accepts. */
function only<D>(a: Accepted<D>, keep: (name: string) => boolean): Accepted<D> {
  const out: Accepted<D> = { ...a, raw: new Map(), decoded: new Map() };
  for (const [name, d] of a.decoded) {
    if (!keep(name)) continue;
    out.decoded.set(name, d);
    out.raw.set(name, a.raw.get(name) as object);
  }
  return out;
}

export class AdsState {
  private accepted: AllAccepted = { listeners: empty(), routes: empty(), clusters: empty(), endpoints: empty() };
  /** Clusters CDS removed while still in use (see `retainedNow`). */
  private retained: ReadonlySet<string> = new Set();
  private current: RuntimeConfig = EMPTY_CONFIG;

  /** The config built from the accepted resources (the last one the data plane applied). */
  get config(): RuntimeConfig {
    return this.current;
  }

  versions(): ResourceVersions {
    const a = this.accepted;
    return { listeners: a.listeners.version, routes: a.routes.version, clusters: a.clusters.version, endpoints: a.endpoints.version };
  }

  version(kind: ResourceKind): string {
    return this.accepted[kind].version;
  }

  /** Resource names to request: [] (wildcard) for clusters and listeners; what they refer to for endpoints and routes. */
  subscription(kind: ResourceKind): string[] {
    return subscriptionOf(this.accepted, kind);
  }

  /** True once clusters and listeners arrived and every route table and EDS endpoint set they name has too. */
  isWarm(): boolean {
    const a = this.accepted;
    return (
      a.clusters.received &&
      a.listeners.received &&
      this.subscription('routes').every((n) => a.routes.raw.has(n)) &&
      this.subscription('endpoints').every((n) => a.endpoints.raw.has(n))
    );
  }

  /**
   * Decodes a response's resources and builds the state and config they would produce with
   * the other kinds' accepted resources. CDS and LDS responses replace the whole set; RDS and
   * EDS responses update the named resources only (SotW: absence is not deletion for them).
   */
  prepare(kind: ResourceKind, version: string, resources: readonly unknown[]): Result<Candidate, Problem[]> {
    const decoded = this.decodeAll(kind, version, resources);
    if (!decoded.ok) return decoded;
    const { fresh, ignored } = decoded.value;
    let next = { ...this.accepted, [kind]: fresh };
    // Make before break: a cluster still in use outlives its removal from CDS until LDS/RDS stop using it,
    // so a control plane that sends CDS first in every push (removals included) is not NACKed.
    const inUse = referencedClusters(next.listeners.decoded, next.routes.decoded);
    const retained = new Set(kind === 'clusters' ? [] : [...this.retained].filter((n) => inUse.has(n)));
    const retainedNow: string[] = [];
    if (kind === 'clusters') {
      const clusters = only(fresh as Accepted<DecodedCluster>, () => true);
      for (const name of inUse) {
        const prev = this.accepted.clusters.decoded.get(name);
        if (clusters.decoded.has(name) || !prev) continue;
        clusters.decoded.set(name, prev);
        clusters.raw.set(name, this.accepted.clusters.raw.get(name) as object);
        retained.add(name);
        if (!this.retained.has(name)) retainedNow.push(name);
      }
      next = { ...next, clusters };
    } else {
      next = { ...next, clusters: only(next.clusters, (n) => !this.retained.has(n) || retained.has(n)) };
    }
    const routes = new Set(subscriptionOf(next, 'routes'));
    const eds = new Set(subscriptionOf(next, 'endpoints'));
    next = { ...next, routes: only(next.routes, (n) => routes.has(n)), endpoints: only(next.endpoints, (n) => eds.has(n)) };
    const built = buildRuntimeConfig(
      { listeners: next.listeners.decoded, routes: next.routes.decoded, clusters: next.clusters.decoded, endpoints: next.endpoints.decoded },
      { ...this.versions(), [kind]: version },
    );
    if (!built.ok) return built;
    return ok({ kind, version, config: built.value, ignored, retainedNow, next, retained });
  }

  /** Makes a prepared candidate the accepted state. */
  commit(c: Candidate): void {
    this.accepted = c.next;
    this.retained = c.retained;
    this.current = c.config;
  }

  dump(): ResourceDump {
    const raw = <T>(kind: ResourceKind): T[] => [...this.accepted[kind].raw.values()] as T[];
    return {
      versions: this.versions(),
      resources: { listeners: raw('listeners'), routes: raw('routes'), clusters: raw('clusters'), endpoints: raw('endpoints') },
    };
  }

  /** The response's resources decoded, merged with the accepted ones for RDS and EDS. */
  private decodeAll(kind: ResourceKind, version: string, resources: readonly unknown[]): Result<{ fresh: Accepted<unknown>; ignored: string[] }, Problem[]> {
    const decoder = DECODERS[kind] as Decoder<unknown>;
    const wildcard = kind === 'clusters' || kind === 'listeners';
    const subscribed = new Set(this.subscription(kind));
    const prev = this.accepted[kind] as Accepted<unknown>;
    const fresh = wildcard ? { ...empty<unknown>(), version, received: true } : { ...only(prev, (n) => subscribed.has(n)), version, received: true };
    const problems: Problem[] = [];
    const seen = new Set<string>();
    const ignored: string[] = [];
    resources.forEach((raw, i) => {
      const label = resourceLabel(decoder.label, raw, decoder.nameField, i);
      const type = isObj(raw) ? (raw['@type'] ?? raw.type_url) : undefined;
      if (type !== TYPE_URL_OF[kind]) {
        problems.push({ code: XDS_PROBLEM.WRONG_TYPE, resource: label, path: '@type', message: `must be ${TYPE_URL_OF[kind]} in a response of that type, got ${show(type)}` });
        return;
      }
      const r = decoder.decode(raw, i);
      if (!r.ok) return void problems.push(...r.error);
      const name = decoder.nameOf(r.value);
      if (seen.has(name)) return void problems.push({ code: XDS_PROBLEM.DUPLICATE, resource: label, path: '', message: 'appears twice in the response' });
      seen.add(name);
      if (!wildcard && !subscribed.has(name)) return void ignored.push(name);
      fresh.decoded.set(name, r.value);
      fresh.raw.set(name, raw as object);
    });
    return problems.length > 0 ? err(problems) : ok({ fresh, ignored });
  }
}

function subscriptionOf(a: AllAccepted, kind: ResourceKind): string[] {
  if (kind === 'routes') return referencedRouteNames(a.listeners.decoded.values());
  if (kind === 'endpoints') return edsNames(a.clusters.decoded.values());
  return [];
}
