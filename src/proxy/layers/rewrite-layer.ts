// Layer: URL rewrite of the route: the matched prefix or (by regex) the path, and the Host /
// :authority sent upstream. Routes without a rewrite pass straight through.
import type { HttpLayer } from '../http/layer.js';
import type { RoutedRequest } from '../http/request-context.js';
import { replacePrefix } from './prefix-rewrite.js';

export const rewriteLayer: HttpLayer<RoutedRequest> = {
  name: 'rewrite',
  request(ctx, next) {
    const rw = ctx.route.rule.rewrite;
    if (rw !== undefined) {
      if (rw.prefix) ctx.path = replacePrefix(ctx.path, rw.prefix.from, rw.prefix.to);
      else if (rw.regex) {
        const q = ctx.path.indexOf('?');
        const pathOnly = q < 0 ? ctx.path : ctx.path.slice(0, q);
        ctx.path = rw.regex.regex.replaceAll(pathOnly, rw.regex.substitution) + (q < 0 ? '' : ctx.path.slice(q));
      }
      if (rw.host) {
        ctx.authority = rw.host;
        ctx.authorityOverride = true;
      }
    }
    next(ctx);
  },
};
