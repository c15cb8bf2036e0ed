// The routes of one Service port, by GAMMA: without an HTTPRoute attached, all requests go to
// the Service's own cluster; with one, only requests that match a rule are routed, to the
// rule's backends, and the rest get 404 (no route matches).
import type { BackendRef, HTTPRoute, HTTPRouteRule, RouteParentRef, Service, ServicePort } from '../../api/resource.js';
import type { Duration, Route, RouteAction } from '../../xds/envoy-types.js';
import { outboundClusterName, serviceHost } from '../../xds/names.js';
import { compareMatches, routeId, type RankedMatch } from './route-precedence.js';
import { DEFAULT_PATH, routeMatch } from './route-match.js';
import { findPort } from './selection.js';
import { filterFields, type FilterFields } from './route-filters.js';
import { hashPolicy, hostPolicy, ruleRetry, routeTimeout, type PolicyLookup } from './traffic-policy.js';

/** Looks a Service up by namespace and name. */
export type ServiceLookup = (namespace: string, name: string) => Service | undefined;

export interface ServiceRoutes {
  routes: Route[];
  warnings: string[];
  /** Virtual-host settings from the Service's TrafficPolicy (retries, fault, rate limit). */
  host?: ReturnType<typeof hostPolicy>;
}

const NO_POLICIES: PolicyLookup = () => undefined;

/** Every route sets a zero timeout: Envoy's default of 15 s would cut streams; the Gateway API has no default timeout. */
export const NO_TIMEOUT: Duration = { seconds: 0 };

function attaches(ref: RouteParentRef, route: HTTPRoute, service: Service, port: ServicePort): boolean {
  return (
    ref.kind === 'Service' &&
    ref.name === service.metadata.name &&
    (ref.namespace ?? route.metadata.namespace) === service.metadata.namespace &&
    (ref.port === undefined || ref.port === port.port)
  );
}

/**
 * The HTTPRoutes that apply to requests from `callerNamespace` to a Service port: consumer
 * routes (in the caller's namespace, when it is not the Service's) if there are any, else
 * producer routes (in the Service's namespace). Routes in other namespaces do not apply.
 */
export function attachedRoutes(service: Service, port: ServicePort, httpRoutes: readonly HTTPRoute[], callerNamespace: string): HTTPRoute[] {
  const all = httpRoutes.filter((r) => r.spec.parentRefs.some((ref) => attaches(ref, r, service, port)));
  const consumer = callerNamespace === service.metadata.namespace ? [] : all.filter((r) => r.metadata.namespace === callerNamespace);
  return consumer.length > 0 ? consumer : all.filter((r) => r.metadata.namespace === service.metadata.namespace);
}

/** The routes of a Service port in Gateway API precedence order (see compareMatches). */
export function serviceRoutes(
  service: Service,
  port: ServicePort,
  httpRoutes: readonly HTTPRoute[],
  callerNamespace: string,
  lookup: ServiceLookup,
  policies: PolicyLookup = NO_POLICIES,
): ServiceRoutes {
  const { name, namespace } = service.metadata;
  const attached = attachedRoutes(service, port, httpRoutes, callerNamespace);
  const policy = policies(namespace, name);
  const host = hostPolicy(policy, `${name}.${namespace}:${port.port}`);
  if (attached.length === 0) {
    const hash = hashPolicy(policy);
    const action: RouteAction = {
      cluster: outboundClusterName(name, namespace, port.port),
      timeout: policy ? routeTimeout(undefined, policy) : NO_TIMEOUT,
      ...(hash ? { hashPolicy: hash } : {}),
    };
    return { routes: [{ name: 'default', match: { prefix: '/' }, route: action }], warnings: [], host };
  }
  const warnings: string[] = [];
  return { routes: rankedRoutes(attached, lookup, policy, policies, warnings), warnings, host };
}

/**
 * The Envoy routes of `attached` HTTPRoutes' rules in Gateway API precedence order (see
 * compareMatches): matches, filters, weights, timeouts and retries over `parentPolicy` (the
 * Service's TrafficPolicy; none at a gateway). Problems are added to `warnings`.
 */
export function rankedRoutes(attached: readonly HTTPRoute[], lookup: ServiceLookup, parentPolicy: ReturnType<PolicyLookup>, policies: PolicyLookup, warnings: string[]): Route[] {
  const ranked: (RankedMatch & { action: RouteAction | undefined; filters: FilterFields })[] = [];
  for (const route of attached) {
    route.spec.rules.forEach((rule, ruleIndex) => {
      const filters = filterFields(
        route,
        rule,
        `HTTPRoute ${routeId(route)} rules[${ruleIndex}]`,
        (ref) => backendCluster({ ...ref, group: '', kind: 'Service', weight: 1 }, route, lookup),
        warnings,
      );
      // A redirect rule answers itself: it needs no backends.
      const action = filters.redirect ? undefined : ruleAction(route, rule, ruleIndex, lookup, warnings);
      if (!action && !filters.redirect) return;
      if (action) {
        withRulePolicy(action, route, rule, parentPolicy, policies);
        Object.assign(action, filters.action);
      }
      const matches = rule.matches.length > 0 ? rule.matches : [{ path: DEFAULT_PATH }];
      matches.forEach((match, matchIndex) => ranked.push({ route, ruleIndex, matchIndex, match, action, filters }));
    });
  }
  ranked.sort(compareMatches);
  return ranked.map((m): Route => {
    const out: Route = { name: `${routeId(m.route)}/rules[${m.ruleIndex}].matches[${m.matchIndex}]`, match: routeMatch(m.match), ...m.filters.route };
    if (m.filters.redirect) out.redirect = m.filters.redirect(m.match);
    else out.route = { ...m.action!, ...m.filters.pathRewrite?.(m.match) };
    return out;
  });
}

/** Adds the rule's timeout and retries (over the parent's policy) and the backends' ring-hash key to `action`. */
function withRulePolicy(action: RouteAction, route: HTTPRoute, rule: HTTPRouteRule, parentPolicy: ReturnType<PolicyLookup>, policies: PolicyLookup): void {
  action.timeout = routeTimeout(rule, parentPolicy);
  const retry = ruleRetry(rule, parentPolicy);
  if (retry) action.retryPolicy = retry;
  for (const ref of rule.backendRefs) {
    const hash = hashPolicy(policies(ref.namespace ?? route.metadata.namespace, ref.name));
    if (hash) {
      action.hashPolicy = hash;
      break;
    }
  }
}

/**
 * The action of a rule, or undefined (and a warning) when it has no backend to send to.
 * Backends that do not exist are left out with a warning; weight-0 backends get no traffic;
 * the same backend listed twice gets the sum of its weights. A rule left with no backend
 * is dropped, so its requests fall to the next matching rule or get 404.
 */
function ruleAction(route: HTTPRoute, rule: HTTPRouteRule, ruleIndex: number, lookup: ServiceLookup, warnings: string[]): RouteAction | undefined {
  const where = `HTTPRoute ${routeId(route)} rules[${ruleIndex}]`;
  const weights = new Map<string, number>();
  rule.backendRefs.forEach((ref, i) => {
    const cluster = backendCluster(ref, route, lookup);
    if (typeof cluster !== 'string') {
      warnings.push(`${where}.backendRefs[${i}]: ${cluster.problem}; that backend gets no traffic`);
      return;
    }
    if (ref.weight > 0) weights.set(cluster, (weights.get(cluster) ?? 0) + ref.weight);
  });
  if (weights.size === 0) {
    const reason = rule.backendRefs.length === 0 ? 'has no backendRefs' : 'has no backend that exists with a weight above 0';
    warnings.push(`${where}: ${reason}; the rule is left out`);
    return undefined;
  }
  if (weights.size === 1) return { cluster: [...weights.keys()][0]!, timeout: NO_TIMEOUT };
  return { weightedClusters: { clusters: [...weights].map(([name, value]) => ({ name, weight: { value } })) }, timeout: NO_TIMEOUT };
}

/** The outbound cluster of a backendRef, or why it has none (BackendNotFound in a route's status). */
export function backendCluster(ref: BackendRef, route: HTTPRoute, lookup: ServiceLookup): string | { problem: string } {
  const namespace = ref.namespace ?? route.metadata.namespace;
  if (ref.kind !== 'Service') return { problem: `kind ${JSON.stringify(ref.kind)} is not supported (expected Service)` };
  const service = lookup(namespace, ref.name);
  if (!service) return { problem: `Service ${namespace}/${ref.name} does not exist` };
  if (!findPort(service, ref.port)) {
    return { problem: `Service ${serviceHost(ref.name, namespace)} has no port ${ref.port} (it has ${service.spec.ports.map((p) => p.port).join(', ') || 'none'})` };
  }
  return outboundClusterName(ref.name, namespace, ref.port);
}
