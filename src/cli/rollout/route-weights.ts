// Finding the HTTPRoute that carries a Service's traffic and rewriting its backend weights, for
// the canary and blue/green workflows. Pure functions over resources.
import type { BackendRef, HTTPRoute, Service } from '../../api/resource.js';
import { err, ok, type Result } from '../../common/result.js';

/** The annotation holding a workflow's state on its HTTPRoute (JSON), so it survives restarts. */
export const ROLLOUT_ANNOTATION = 'trellis.dev/rollout';

const attachesTo = (r: HTTPRoute, service: Service): boolean =>
  r.spec.parentRefs.some((p) => p.kind === 'Service' && p.name === service.metadata.name && (p.namespace ?? r.metadata.namespace) === service.metadata.namespace);

/** The HTTPRoute in the Service's namespace attached to it: the one named `name`, or the only one. */
export function findRoute(routes: readonly HTTPRoute[], service: Service, name?: string): Result<HTTPRoute | undefined, string> {
  const attached = routes.filter((r) => r.metadata.namespace === service.metadata.namespace && attachesTo(r, service));
  if (name !== undefined) {
    const r = attached.find((x) => x.metadata.name === name);
    return r
      ? ok(r)
      : err(
          `no HTTPRoute ${service.metadata.namespace}/${name} attached to Service ${service.metadata.name} (attached: ${attached.map((x) => x.metadata.name).join(', ') || 'none'})`,
        );
  }
  if (attached.length > 1) return err(`Service ${service.metadata.name} has several HTTPRoutes (${attached.map((x) => x.metadata.name).join(', ')}); choose one with --route`);
  return ok(attached[0]);
}

/** The backend that has most of the traffic now (other than `to`), for a workflow that was not told --from. */
export function currentBackend(route: HTTPRoute, to: string): string | undefined {
  const weights = new Map<string, number>();
  for (const rule of route.spec.rules) for (const b of rule.backendRefs) if (b.name !== to) weights.set(b.name, (weights.get(b.name) ?? 0) + b.weight);
  return [...weights].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** A new HTTPRoute for the Service with one rule sending everything to `from`. */
export function newRoute(service: Service, from: string): HTTPRoute {
  const port = service.spec.ports[0]!.port;
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: `${service.metadata.name}-rollout`, namespace: service.metadata.namespace },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: service.metadata.name, port }],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ group: '', kind: 'Service', name: from, port, weight: 1 }] }],
    },
  };
}

/**
 * `route` with `percent` of the traffic of every rule that sends only to `from` and/or `to`
 * going to `to`, the rest to `from`. Rules with other backends (e.g. an A/B header rule) are
 * left alone. Fails when no rule qualifies.
 */
export function withWeights(route: HTTPRoute, from: string, to: string, percent: number, defaultPort: number): Result<HTTPRoute, string> {
  let changed = 0;
  const rules = route.spec.rules.map((rule) => {
    const names = new Set(rule.backendRefs.map((b) => b.name));
    if (names.size === 0 || ![...names].every((n) => n === from || n === to) || !names.has(from)) return rule;
    changed++;
    const template = rule.backendRefs.find((b) => b.name === from)!;
    const ref = (name: string, weight: number): BackendRef => ({ ...template, name, weight, port: template.port ?? defaultPort });
    return { ...rule, backendRefs: [ref(from, 100 - percent), ref(to, percent)] };
  });
  if (changed === 0) return err(`HTTPRoute ${route.metadata.namespace}/${route.metadata.name} has no rule that sends only to ${from} (or ${to}); nothing to shift`);
  return ok({ ...route, spec: { ...route.spec, rules } });
}

/** The share of the route's traffic (over qualifying rules) that `to` has now, 0..100. */
export function shareOf(route: HTTPRoute, to: string): number {
  let total = 0;
  let mine = 0;
  for (const rule of route.spec.rules)
    for (const b of rule.backendRefs) {
      total += b.weight;
      if (b.name === to) mine += b.weight;
    }
  return total === 0 ? 0 : Math.round((mine * 100) / total);
}

/** `route` with the workflow state annotation set (and resourceVersion kept for optimistic concurrency). */
export function withState(route: HTTPRoute, state: object): HTTPRoute {
  return { ...route, metadata: { ...route.metadata, annotations: { ...route.metadata.annotations, [ROLLOUT_ANNOTATION]: JSON.stringify(state) } } };
}

/** The workflow state stored on `route`, if any. */
export function stateOf<T>(route: HTTPRoute | undefined): T | undefined {
  const raw = route?.metadata.annotations?.[ROLLOUT_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}
