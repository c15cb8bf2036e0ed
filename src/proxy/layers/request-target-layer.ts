// Layer: the request target as every later layer and the app see it: an absolute-form target
// becomes origin-form (an HTTP proxy listener accepts nothing else: 400), then the path is
// normalized under the listener's HCM path settings (routing/normalize-path.ts). It runs before
// authorization and routing, so both judge the path the app receives. Most paths need no work:
// one scan of the path says so.
import { badRequest } from '../errors.js';
import { respondRedirect } from '../http/error-response.js';
import type { HttpLayer } from '../http/layer.js';
import { parseAbsoluteForm } from '../routing/absolute-form.js';
import { normalizePath } from '../routing/normalize-path.js';
import type { RequestContext } from '../http/request-context.js';

const isGrpc = (ctx: RequestContext): boolean => ctx.header('content-type')?.startsWith('application/grpc') === true;

export const requestTargetLayer: HttpLayer = {
  name: 'request-target',
  request(ctx, next) {
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
    const settings = ctx.listener.pathNormalization;
    if (settings !== undefined) {
      const normal = normalizePath(ctx.path, settings);
      if (typeof normal !== 'string') {
        // gRPC clients do not follow redirects: Envoy refuses them (INTERNAL) instead, and so do we.
        if (normal.kind === 'redirect' && !isGrpc(ctx)) respondRedirect(ctx, 307, normal.location);
        else
          ctx.fail(
            badRequest(
              `path ${JSON.stringify(ctx.path.slice(0, 200))} cannot be normalized safely: ${normal.kind === 'reject' ? normal.reason : 'it contains escaped slashes and a gRPC call cannot follow the redirect to the unescaped path (UNESCAPE_AND_REDIRECT)'}`,
            ),
          );
        return;
      }
      ctx.path = normal;
    }
    next(ctx);
  },
};
