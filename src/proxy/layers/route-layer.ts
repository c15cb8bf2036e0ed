// Layer: route matching. Picks the virtual host by Host/:authority and the first matching rule
// of the listener's route table, after turning an absolute-form target into origin-form (an
// HTTP proxy listener accepts nothing else: 400). No match is a 404 (NO_ROUTE).
import { badRequest, noRoute } from '../errors.js';
import type { Layer } from '../http/layer.js';
import { parseAbsoluteForm } from '../routing/absolute-form.js';

export const routeLayer: Layer = (next) => (ctx) => {
  if (ctx.path.charCodeAt(0) !== 47 /* '/' */) {
    // Absolute-form: what HTTP proxy clients send, and what any HTTP/1.1 server must accept.
    const origin = parseAbsoluteForm(ctx.path);
    if (origin !== undefined) {
      ctx.authority = origin.authority;
      ctx.authorityOverride = true;
      ctx.path = origin.path;
    } else if (ctx.listener.httpProxy) {
      ctx.fail(badRequest(`an HTTP proxy listener needs an absolute http:// request target, got ${JSON.stringify(ctx.path.slice(0, 200))}`));
      return;
    }
  }
  const route = ctx.scope.router?.route(ctx.authority, ctx);
  if (route === undefined) {
    ctx.fail(noRoute(ctx.authority, ctx.path));
    return;
  }
  ctx.route = route;
  next(ctx);
};
