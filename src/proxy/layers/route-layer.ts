// Layer: route matching. Picks the virtual host by Host/:authority and the first matching rule
// of the listener's route table, on the origin-form, normalized target the request-target
// layer left. No match is a 404 (NO_ROUTE).
import { noRoute } from '../errors.js';
import type { HttpLayer } from '../http/layer.js';
import type { RequestContext, RoutedRequest } from '../http/request-context.js';

export const routeLayer: HttpLayer<RequestContext, RoutedRequest> = {
  name: 'route',
  request(ctx, next) {
    const route = ctx.scope.router?.route(ctx.authority, ctx);
    if (route === undefined) {
      ctx.fail(noRoute(ctx.authority, ctx.path));
      return;
    }
    ctx.route = route;
    next(ctx as RoutedRequest);
  },
};
