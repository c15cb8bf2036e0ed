// The translator's view of the store, kept in memory: the current Services, HTTPRoutes and
// MeshConfig, rebuilt as a new immutable MeshState on every committed batch (the
// translator caches per input object, so a new object marks a change).
import {
  DEFAULT_MESH_CONFIG,
  type AuthorizationPolicy,
  type ExternalService,
  type Gateway,
  type GatewayClass,
  type HTTPRoute,
  type GRPCRoute,
  type MeshConfig,
  type RequestAuthentication,
  type Resource,
  type Secret,
  type Service,
  type TCPRoute,
  type TrafficPolicy,
} from '../api/resource.js';
import type { Store, Watch, WatchEvent } from './store/index.js';
import type { MeshState } from './translator/index.js';
import { externalVipKeys } from './translator/external-services.js';
import type { VirtualIpAllocator } from './virtual-ips/allocator.js';

const keyOf = (r: Resource): string => `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;

export class MeshStateCache {
  readonly #resources = new Map<string, Resource>();
  #state: MeshState = { services: [], httpRoutes: [], meshConfig: DEFAULT_MESH_CONFIG };
  #watch: Watch | undefined;
  #pendingRevision = -1;

  private constructor(
    private readonly onChange: () => void,
    private readonly vips?: VirtualIpAllocator,
  ) {}

  /** Lists the store, then follows its watch; `onChange` runs after each batch is reflected. */
  static async open(store: Store, onChange: () => void, vips?: VirtualIpAllocator): Promise<MeshStateCache> {
    const cache = new MeshStateCache(onChange, vips);
    const listed = await store.list();
    for (const r of listed.items) cache.#resources.set(keyOf(r), r);
    cache.#rebuild();
    const watch = store.watch(listed.revision, (e) => cache.#onEvent(e));
    if (!watch.ok) throw new Error(`cannot watch the store: ${watch.error.message}`);
    cache.#watch = watch.value;
    return cache;
  }

  /** The current state (a new object after every change). */
  get state(): MeshState {
    return this.#state;
  }

  #onEvent(event: WatchEvent): void {
    if (event.type === 'DELETED') this.#resources.delete(keyOf(event.resource));
    else this.#resources.set(keyOf(event.resource), event.resource);
    // A batch's events arrive together; rebuild once, after the last of them.
    if (this.#pendingRevision === event.revision) return;
    this.#pendingRevision = event.revision;
    queueMicrotask(() => {
      this.#pendingRevision = -1;
      this.#rebuild();
      this.onChange();
    });
  }

  #rebuild(): void {
    const services: Service[] = [];
    const httpRoutes: HTTPRoute[] = [];
    const authorizationPolicies: AuthorizationPolicy[] = [];
    const trafficPolicies: TrafficPolicy[] = [];
    const grpcRoutes: GRPCRoute[] = [];
    const tcpRoutes: TCPRoute[] = [];
    const requestAuthentications: RequestAuthentication[] = [];
    const externalServices: ExternalService[] = [];
    const gatewayClasses: GatewayClass[] = [];
    const gateways: Gateway[] = [];
    const secrets: Secret[] = [];
    let meshConfig: MeshConfig | undefined;
    for (const r of this.#resources.values()) {
      if (r.kind === 'AuthorizationPolicy') authorizationPolicies.push(r);
      else if (r.kind === 'Service') services.push(r);
      else if (r.kind === 'HTTPRoute') httpRoutes.push(r);
      else if (r.kind === 'MeshConfig') meshConfig = r;
      else if (r.kind === 'TrafficPolicy') trafficPolicies.push(r);
      else if (r.kind === 'GRPCRoute') grpcRoutes.push(r);
      else if (r.kind === 'TCPRoute') tcpRoutes.push(r);
      else if (r.kind === 'RequestAuthentication') requestAuthentications.push(r);
      else if (r.kind === 'ExternalService') externalServices.push(r);
      else if (r.kind === 'GatewayClass') gatewayClasses.push(r);
      else if (r.kind === 'Gateway') gateways.push(r);
      else if (r.kind === 'Secret') secrets.push(r);
    }
    const mesh = meshConfig?.spec ?? DEFAULT_MESH_CONFIG;
    this.#state = {
      services,
      httpRoutes,
      authorizationPolicies,
      meshConfig: mesh,
      trafficPolicies,
      grpcRoutes,
      tcpRoutes,
      requestAuthentications,
      externalServices,
      gatewayClasses,
      gateways,
      secrets,
    };
    if (this.vips)
      this.#state.virtualIps = this.vips.update([...services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`), ...externalVipKeys(externalServices)], mesh.virtualIpRange);
  }

  close(): void {
    this.#watch?.close();
  }
}
