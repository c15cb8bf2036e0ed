// Which Gateways Trellis runs, which of their listeners it can serve, and which routes attach
// to which listener with which host names, as the Gateway API defines it. Both the gateway
// translator (gateway-listeners.ts) and the status the REST API answers read this one model,
// so a route is attached in the config exactly when its status says Accepted.
import type { Gateway, GatewayClass, GatewayListener, GatewayParentRef, GRPCRoute, HTTPRoute, Secret } from '../../api/resource.js';
import { TRELLIS_GATEWAY_CONTROLLER } from '../../api/gateway-class.js';
import { routeHostnamesOnListener } from '../../api/hostname-intersection.js';
import { grpcAsHttpRoute } from './grpc-routes.js';
import { backendCluster, type ServiceLookup } from './service-routes.js';
import type { MeshState } from './types.js';
import { serviceKey } from './selection.js';

/** A route a Gateway may take: its rules as an HTTPRoute (a GRPCRoute's are converted) and the resource itself. */
export interface GatewayRoute {
  resource: HTTPRoute | GRPCRoute;
  rules: HTTPRoute;
}

/** Why a condition is not in its good state: the Gateway API reason and a message naming what is wrong. */
export interface Reason {
  reason: string;
  message: string;
}

export interface ListenerModel {
  listener: GatewayListener;
  /** Set: condition Accepted False (UnsupportedProtocol, PortUnavailable). */
  notAccepted?: Reason;
  /** Set: condition Conflicted True (ProtocolConflict, HostnameConflict). */
  conflicted?: Reason;
  /** Set: condition ResolvedRefs False (InvalidCertificateRef, RefNotPermitted, InvalidRouteKinds). */
  unresolved?: Reason;
  /** The route kinds the listener takes (allowedRoutes.kinds that fit its protocol). */
  kinds: readonly ('HTTPRoute' | 'GRPCRoute')[];
  /** The Secrets of its certificateRefs that resolved (HTTPS). */
  certificates: readonly Secret[];
  /** True when the gateway serves it: accepted, not conflicted, and (HTTPS) with a certificate. */
  served: boolean;
  /** The routes attached, each with the host names it serves here. */
  routes: { route: GatewayRoute; hostnames: readonly string[] }[];
}

export interface GatewayModel {
  gateway: Gateway;
  /** Set: the Gateway is not Trellis's to run or not accepted (its class is missing or another controller's). */
  notAccepted?: Reason;
  listeners: ListenerModel[];
}

/** One parentRef of a route naming a Gateway, and what came of it. */
export interface RouteParentModel {
  parentRef: GatewayParentRef;
  /** Set: condition Accepted False (NoMatchingParent, NotAllowedByListeners, NoMatchingListenerHostname). */
  notAccepted?: Reason;
  /** Set: condition ResolvedRefs False (BackendNotFound, InvalidKind). */
  unresolved?: Reason;
}

export interface GatewayWorld {
  /** By `namespace/name`. */
  gateways: ReadonlyMap<string, GatewayModel>;
  classes: ReadonlyMap<string, GatewayClass>;
  /** By route (`Kind/namespace/name`): one entry per Gateway parentRef, in parentRefs order. */
  routeParents: ReadonlyMap<string, RouteParentModel[]>;
}

export const gatewayKey = (namespace: string, name: string): string => `${namespace}/${name}`;
export const routeKey = (r: HTTPRoute | GRPCRoute): string => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;

const HTTP_KINDS = ['HTTPRoute', 'GRPCRoute'] as const;
/** The label every namespace carries (Kubernetes sets it); Trellis namespaces have no other labels. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

const worlds = new WeakMap<MeshState, GatewayWorld>();

/** The Gateway model of a mesh state, computed once per state object. */
export function gatewayWorld(state: MeshState): GatewayWorld {
  let world = worlds.get(state);
  if (!world) worlds.set(state, (world = buildWorld(state)));
  return world;
}

function buildWorld(state: MeshState): GatewayWorld {
  const classes = new Map((state.gatewayClasses ?? []).map((c) => [c.metadata.name, c]));
  const secrets = new Map((state.secrets ?? []).map((s) => [gatewayKey(s.metadata.namespace, s.metadata.name), s]));
  const gateways = new Map<string, GatewayModel>();
  for (const g of [...(state.gateways ?? [])].sort((a, b) => (gatewayKey(a.metadata.namespace, a.metadata.name) < gatewayKey(b.metadata.namespace, b.metadata.name) ? -1 : 1))) {
    gateways.set(gatewayKey(g.metadata.namespace, g.metadata.name), gatewayModel(g, classes, secrets));
  }
  const byKey = new Map(state.services.map((s) => [serviceKey(s.metadata.namespace, s.metadata.name), s]));
  const lookup: ServiceLookup = (ns, name) => byKey.get(serviceKey(ns, name));
  const routes: GatewayRoute[] = [
    ...state.httpRoutes.map((r) => ({ resource: r, rules: r })),
    ...(state.grpcRoutes ?? []).map((r) => ({ resource: r, rules: grpcAsHttpRoute(r) })),
  ];
  const routeParents = new Map<string, RouteParentModel[]>();
  for (const route of routes) {
    const parents = route.resource.spec.parentRefs.filter((p): p is GatewayParentRef => p.kind === 'Gateway');
    if (parents.length === 0) continue;
    const unresolved = backendProblem(route, lookup);
    routeParents.set(
      routeKey(route.resource),
      parents.map((p) => ({ parentRef: p, ...attach(route, p, gateways), ...(unresolved ? { unresolved } : {}) })),
    );
  }
  return { gateways, classes, routeParents };
}

function gatewayModel(g: Gateway, classes: ReadonlyMap<string, GatewayClass>, secrets: ReadonlyMap<string, Secret>): GatewayModel {
  const cls = classes.get(g.spec.gatewayClassName);
  const notAccepted: Reason | undefined = !cls
    ? { reason: 'Pending', message: `GatewayClass ${JSON.stringify(g.spec.gatewayClassName)} does not exist` }
    : cls.spec.controllerName !== TRELLIS_GATEWAY_CONTROLLER
      ? { reason: 'Pending', message: `GatewayClass ${cls.metadata.name} is run by ${cls.spec.controllerName}, not ${TRELLIS_GATEWAY_CONTROLLER}` }
      : undefined;
  const firstProtocolOfPort = new Map<number, string>();
  const hostnamesOfPort = new Map<string, string>();
  const listeners = g.spec.listeners.map((l): ListenerModel => {
    const m: ListenerModel = { listener: l, kinds: [], certificates: [], served: false, routes: [] };
    const first = firstProtocolOfPort.get(l.port);
    if (first === undefined) firstProtocolOfPort.set(l.port, l.protocol);
    const sameSlot = `${l.port}/${l.protocol}/${l.hostname ?? ''}`;
    if (first !== undefined && first !== l.protocol) {
      m.conflicted = { reason: 'ProtocolConflict', message: `port ${l.port} is already used by an ${first} listener; one port serves one protocol` };
      m.notAccepted = { reason: 'PortUnavailable', message: `port ${l.port} is already used by an ${first} listener` };
    } else if (hostnamesOfPort.has(sameSlot)) {
      m.conflicted = {
        reason: 'HostnameConflict',
        message: `listener ${hostnamesOfPort.get(sameSlot)} already serves ${l.protocol} for hostname ${l.hostname ?? '(any)'} on port ${l.port}`,
      };
    } else hostnamesOfPort.set(sameSlot, l.name);
    if (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS') {
      m.notAccepted ??= { reason: 'UnsupportedProtocol', message: `protocol ${l.protocol} is not supported by Trellis gateways yet (HTTP and HTTPS are)` };
    }
    const given = l.allowedRoutes.kinds?.map((k) => k.kind);
    m.kinds = HTTP_KINDS.filter((k) => given === undefined || given.includes(k));
    const badKinds = given?.filter((k) => !(HTTP_KINDS as readonly string[]).includes(k)) ?? [];
    if (badKinds.length > 0 && l.protocol !== 'TLS' && l.protocol !== 'TCP') {
      m.unresolved = { reason: 'InvalidRouteKinds', message: `${badKinds.join(', ')} cannot attach to an ${l.protocol} listener (HTTPRoute and GRPCRoute can)` };
    }
    if (l.protocol === 'HTTPS') {
      const problems: Reason[] = [];
      for (const ref of l.tls?.certificateRefs ?? []) {
        const ns = ref.namespace ?? g.metadata.namespace;
        if (ns !== g.metadata.namespace) {
          problems.push({ reason: 'RefNotPermitted', message: `Secret ${ns}/${ref.name} is in another namespace, which needs a ReferenceGrant (not supported yet)` });
          continue;
        }
        const secret = secrets.get(gatewayKey(ns, ref.name));
        if (!secret) problems.push({ reason: 'InvalidCertificateRef', message: `Secret ${ns}/${ref.name} does not exist` });
        else m.certificates = [...m.certificates, secret];
      }
      if (problems.length > 0) m.unresolved = { reason: problems[0]!.reason, message: problems.map((p) => p.message).join('; ') };
    }
    m.served = !notAccepted && !m.notAccepted && !m.conflicted && (l.protocol === 'HTTP' || m.certificates.length > 0);
    return m;
  });
  return { gateway: g, ...(notAccepted ? { notAccepted } : {}), listeners };
}

function allowsNamespace(l: GatewayListener, gatewayNamespace: string, routeNamespace: string): boolean {
  const { from, selector } = l.allowedRoutes.namespaces;
  if (from === 'All') return true;
  if (from === 'Same') return routeNamespace === gatewayNamespace;
  const labels: Record<string, string> = { [NAMESPACE_NAME_LABEL]: routeNamespace };
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/** Attaches `route` through `ref`: adds it to the listeners that take it; answers why not when none does. */
function attach(route: GatewayRoute, ref: GatewayParentRef, gateways: ReadonlyMap<string, GatewayModel>): Pick<RouteParentModel, 'notAccepted'> {
  const r = route.resource;
  const ns = ref.namespace ?? r.metadata.namespace;
  const model = gateways.get(gatewayKey(ns, ref.name));
  if (!model) return { notAccepted: { reason: 'NoMatchingParent', message: `Gateway ${ns}/${ref.name} does not exist` } };
  if (model.notAccepted) return { notAccepted: { reason: 'NoMatchingParent', message: `Gateway ${ns}/${ref.name} is not accepted: ${model.notAccepted.message}` } };
  const named = model.listeners.filter((m) => (ref.sectionName === undefined || m.listener.name === ref.sectionName) && (ref.port === undefined || m.listener.port === ref.port));
  if (named.length === 0) {
    const which = [ref.sectionName !== undefined ? `named ${ref.sectionName}` : '', ref.port !== undefined ? `on port ${ref.port}` : ''].filter(Boolean).join(' ');
    return { notAccepted: { reason: 'NoMatchingParent', message: `Gateway ${ns}/${ref.name} has no listener ${which}` } };
  }
  const allowed = named.filter((m) => m.served && (m.kinds as readonly string[]).includes(r.kind) && allowsNamespace(m.listener, ns, r.metadata.namespace));
  if (allowed.length === 0) {
    return {
      notAccepted: {
        reason: 'NotAllowedByListeners',
        message: `no served listener of Gateway ${ns}/${ref.name} allows a ${r.kind} from namespace ${r.metadata.namespace} (see the listeners' allowedRoutes and status)`,
      },
    };
  }
  let attached = 0;
  for (const m of allowed) {
    const hostnames = routeHostnamesOnListener(m.listener.hostname, r.spec.hostnames);
    if (hostnames.length === 0) continue;
    m.routes.push({ route, hostnames });
    attached++;
  }
  if (attached === 0) {
    const listenerNames = allowed.map((m) => `${m.listener.name} (${m.listener.hostname ?? 'any'})`).join(', ');
    return {
      notAccepted: { reason: 'NoMatchingListenerHostname', message: `no hostname of the route (${(r.spec.hostnames ?? []).join(', ')}) matches the listeners ${listenerNames}` },
    };
  }
  return {};
}

/** ResolvedRefs of a route: the first backend that does not exist, if any. */
function backendProblem(route: GatewayRoute, lookup: ServiceLookup): Reason | undefined {
  for (const [i, rule] of route.rules.spec.rules.entries()) {
    for (const [j, ref] of rule.backendRefs.entries()) {
      const cluster = backendCluster(ref, route.rules, lookup);
      if (typeof cluster !== 'string') return { reason: 'BackendNotFound', message: `rules[${i}].backendRefs[${j}]: ${cluster.problem}` };
    }
  }
  return undefined;
}
