// Layer: weighted cluster pick (traffic splitting) among the matched route's backends. All
// weights zero is a 503 (NO_BACKEND).
import { noBackend } from '../errors.js';
import type { HttpLayer } from '../http/layer.js';
import type { BackendRequest, RoutedRequest } from '../http/request-context.js';

export const clusterPickLayer: HttpLayer<RoutedRequest, BackendRequest> = {
  name: 'cluster-pick',
  request(ctx, next) {
    const route = ctx.route;
    const cluster = route.backends.pick();
    if (cluster === undefined) {
      ctx.fail(noBackend(route.name));
      return;
    }
    ctx.cluster = cluster;
    next(ctx as BackendRequest);
  },
};
