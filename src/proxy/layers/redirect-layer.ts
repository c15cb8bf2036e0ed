// Layer: redirect routes answer themselves (301/302/303/307/308 with Location) instead of
// forwarding. The new URL keeps what the redirect does not replace: host, port, path, query.
// Routes without a redirect pass straight through.
import type { RedirectConfig } from '../config/route-filter-config.js';
import { respondRedirect } from '../http/error-response.js';
import type { HttpLayer } from '../http/layer.js';
import type { RequestContext, RoutedRequest } from '../http/request-context.js';
import { replacePrefix } from './prefix-rewrite.js';

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 };

/** The Location of a redirect of `ctx`. */
export function redirectLocation(ctx: Pick<RequestContext, 'authority' | 'path'>, r: RedirectConfig): string {
  const authority = ctx.authority;
  const colon = authority.lastIndexOf(':');
  const bracket = authority.lastIndexOf(']');
  const hasPort = colon > bracket && colon > 0;
  const host = r.host ?? (hasPort ? authority.slice(0, colon) : authority);
  const scheme = r.scheme ?? 'http';
  // A scheme change without a port drops the port (the new scheme's default applies), as the Gateway API says.
  const port = r.port ?? (r.scheme === undefined && hasPort ? Number(authority.slice(colon + 1)) : undefined);
  const portPart = port === undefined || port === DEFAULT_PORTS[scheme] ? '' : `:${port}`;
  const q = ctx.path.indexOf('?');
  const query = q < 0 || r.stripQuery ? '' : ctx.path.slice(q);
  const pathOnly = q < 0 ? ctx.path : ctx.path.slice(0, q);
  const path = r.path ?? (r.prefix ? replacePrefix(pathOnly, r.prefix.from, r.prefix.to) : pathOnly);
  return `${scheme}://${host}${portPart}${path}${query}`;
}

export const redirectLayer: HttpLayer<RoutedRequest> = {
  name: 'redirect',
  request(ctx, next) {
    const r = ctx.route.rule.redirect;
    if (r === undefined) {
      next(ctx);
      return;
    }
    respondRedirect(ctx, r.status, redirectLocation(ctx, r));
  },
};
