// Layer: load balancing. Asks the chosen cluster's picker for an endpoint (the outlier
// detector's picker, without ejected endpoints, when the cluster has one); routes with a hash
// policy pass the request's affinity key for ring hash. A retry (or a request re-routed from
// an endpoint that left) avoids the endpoints its earlier attempts went to, as Envoy's
// previous_hosts retry predicate does; when it tried them all, any may be picked again.
// A cluster without endpoints is a 503
// (NO_HEALTHY_ENDPOINT). On the way up, each attempt's outcome is recorded against the
// endpoint it went to (outlier detection: a 5xx or a failed attempt counts against it).
import { hash32 } from '../balancer/index.js';
import type { HashConfig } from '../config/resilience-config.js';
import { noHealthyEndpoint } from '../errors.js';
import type { HttpLayer } from '../http/layer.js';
import type { RequestContext, BackendRequest, EndpointRequest } from '../http/request-context.js';

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function requestHash(ctx: RequestContext, h: HashConfig): number | undefined {
  const key = h.type === 'header' ? ctx.header(h.name) : h.type === 'cookie' ? cookieValue(ctx.header('cookie'), h.name) : ctx.downstream.remoteAddress;
  return key === undefined ? undefined : hash32(key);
}

export const balanceLayer: HttpLayer<BackendRequest, EndpointRequest> = {
  name: 'balance',
  request(ctx, next) {
    const cluster = ctx.cluster;
    const h = ctx.route.rule.hash;
    const outlier = cluster.runtime.outlier;
    const balancer = outlier === undefined ? cluster.balancer : outlier.balancer;
    const previous = ctx.endpoint;
    // Only a later attempt has a previous endpoint: the first one allocates nothing here.
    if (previous !== undefined) (ctx.triedEndpoints ??= []).push(previous);
    const endpoint = balancer.pick(h === undefined ? undefined : requestHash(ctx, h), ctx.triedEndpoints);
    if (endpoint === undefined) {
      ctx.fail(noHealthyEndpoint(cluster.name));
      return;
    }
    ctx.endpoint = endpoint;
    next(ctx as EndpointRequest);
  },
  onResponseHead(ctx, status) {
    const outlier = ctx.cluster.runtime.outlier;
    if (outlier !== undefined && ctx.endpoint !== undefined) outlier.record(ctx.endpoint, status < 500);
    return false;
  },
  onAttemptFailed(ctx, error) {
    const outlier = ctx.cluster.runtime.outlier;
    // A connection the server closed as idle (the keep-alive race) says nothing of its health.
    if (outlier !== undefined && ctx.endpoint !== undefined && error.unprocessed !== true) outlier.record(ctx.endpoint, false);
    return false;
  },
};
